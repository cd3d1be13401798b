package dev.matrixpolicy.gateway.policyserver;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyManagementException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS to a host that must prove another name than its own: the server name (or delegated name) that
 * an SRV record sent us away from, as the spec's "Resolving server names" wants.
 *
 * <p>The JDK's {@code HttpClient} (as of JDK 25) sets, on each connection's engine, endpoint
 * identification {@code HTTPS} and, for a URL whose host is a name, SNI for that host, whatever the
 * client's {@link SSLParameters} say. So {@link #context} gives an {@link SSLContext} whose engines
 * replace the SNI they are given with the expected name, and whose trust manager, being an {@link
 * X509ExtendedTrustManager}, is the one that would do the endpoint identification: it checks the
 * chain with the platform's trust manager without it (the 2-argument {@code checkServerTrusted}) and
 * then the leaf certificate's names against the expected name (RFC 6125: subjectAltName DNS names,
 * a wildcard only as the whole leftmost label, IP addresses for an IP literal; the common name is
 * never used, as in the {@code service_identity} package Synapse uses).
 */
final class NamedTls {
    private NamedTls() {
    }

    /** The platform's trust manager: the JDK's {@code cacerts}, or what {@code javax.net.ssl.trustStore} says. */
    static X509ExtendedTrustManager platformTrust() {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init((KeyStore) null);
            return Arrays.stream(factory.getTrustManagers()).filter(X509ExtendedTrustManager.class::isInstance)
                    .map(X509ExtendedTrustManager.class::cast).findFirst()
                    .orElseThrow(() -> new IllegalStateException("The JDK has no X.509 trust manager"));
        } catch (GeneralSecurityException impossible) {
            throw new IllegalStateException("The JDK has no X.509 trust manager", impossible);
        }
    }

    /** TLS whose certificate checks are {@code trust}'s own, endpoint identification included. */
    static SSLContext context(TrustManager trust) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trust}, null);
            return context;
        } catch (GeneralSecurityException impossible) {
            throw new IllegalStateException("The JDK has no TLS", impossible);
        }
    }

    /**
     * TLS that sends {@code expectedName} as SNI and accepts only a certificate that {@code platform}
     * trusts and that is valid for {@code expectedName}, whatever host the connection goes to.
     *
     * @throws IllegalArgumentException {@code expectedName} is not a host name SNI can carry
     */
    static SSLContext context(String expectedName, X509TrustManager platform) {
        SNIHostName sni = new SNIHostName(expectedName);
        SSLContext inner = context(new ExpectedName(expectedName, platform));
        return new SSLContext(new NamingSpi(inner, sni), inner.getProvider(), inner.getProtocol()) {
        };
    }

    /** Whether {@code certificate} names {@code host} (a DNS name, or an IP literal, IPv6 in brackets). */
    static boolean isValidFor(X509Certificate certificate, String host) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException unreadable) {
            return false;
        }
        if (names == null) {
            return false;
        }
        boolean ip = host.startsWith("[") || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        if (ip) {
            InetAddress address = ipLiteral(host.replaceAll("^\\[|]$", ""));
            return address != null && names.stream().filter(name -> Integer.valueOf(7).equals(name.get(0)))
                    .map(name -> ipLiteral(String.valueOf(name.get(1)))).anyMatch(address::equals);
        }
        return names.stream().filter(name -> Integer.valueOf(2).equals(name.get(0)))
                .anyMatch(name -> dnsNameMatches(String.valueOf(name.get(1)), host));
    }

    private static InetAddress ipLiteral(String literal) {
        try {
            return InetAddress.ofLiteral(literal);
        } catch (IllegalArgumentException notAnAddress) {
            return null;
        }
    }

    /**
     * RFC 6125 matching of a certificate's DNS name against {@code host}, case-insensitively: equal,
     * or {@code *.rest} where {@code rest} has two labels at least and {@code host} is one label
     * before {@code rest}.
     */
    static boolean dnsNameMatches(String pattern, String host) {
        String name = pattern.toLowerCase(Locale.ROOT).replaceFirst("\\.$", "");
        String target = host.toLowerCase(Locale.ROOT).replaceFirst("\\.$", "");
        if (!name.startsWith("*.")) {
            return !name.contains("*") && name.equals(target);
        }
        String rest = name.substring(1);
        int firstDot = target.indexOf('.');
        return !rest.substring(1).contains("*") && rest.indexOf('.', 1) > 0 && firstDot > 0
                && target.substring(firstDot).equals(rest);
    }

    /** Checks server certificates by the platform's trust anchors and then against one expected name. */
    private static final class ExpectedName extends X509ExtendedTrustManager {
        private final String expectedName;
        private final X509TrustManager platform;

        ExpectedName(String expectedName, X509TrustManager platform) {
            this.expectedName = expectedName;
            this.platform = platform;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            platform.checkServerTrusted(chain, authType); // the 2-argument check: no endpoint identification
            if (chain.length == 0 || !isValidFor(chain[0], expectedName)) {
                throw new CertificateException("The certificate is not valid for " + expectedName);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("Client certificates are not checked here");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return platform.getAcceptedIssuers();
        }
    }

    /** {@code inner}, but its engines send {@code sni} (the JDK's HttpClient offers no other way). */
    private static final class NamingSpi extends SSLContextSpi {
        private final SSLContext inner;
        private final SNIHostName sni;

        NamingSpi(SSLContext inner, SNIHostName sni) {
            this.inner = inner;
            this.sni = sni;
        }

        @Override
        protected void engineInit(KeyManager[] keyManagers, TrustManager[] trustManagers, SecureRandom random)
                throws KeyManagementException {
            throw new KeyManagementException("Initialised already");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            throw new UnsupportedOperationException("Only engines send the expected name");
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            throw new UnsupportedOperationException("For clients only");
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return new NamingEngine(inner.createSSLEngine(), sni);
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return new NamingEngine(inner.createSSLEngine(host, port), sni);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return inner.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return inner.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return inner.getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return inner.getSupportedSSLParameters();
        }
    }

    /** An engine that passes everything on to {@code inner}, SSL parameters with {@code sni} as server name. */
    private static final class NamingEngine extends SSLEngine {
        private final SSLEngine inner;
        private final List<SNIHostName> sni;

        NamingEngine(SSLEngine inner, SNIHostName sni) {
            super(inner.getPeerHost(), inner.getPeerPort());
            this.inner = inner;
            this.sni = List.of(sni);
            inner.setSSLParameters(named(inner.getSSLParameters()));
        }

        private SSLParameters named(SSLParameters parameters) {
            parameters.setServerNames(List.copyOf(sni));
            return parameters;
        }

        @Override
        public void setSSLParameters(SSLParameters parameters) {
            inner.setSSLParameters(named(parameters));
        }

        @Override
        public SSLParameters getSSLParameters() {
            return inner.getSSLParameters();
        }

        @Override
        public SSLEngineResult wrap(ByteBuffer[] sources, int offset, int length, ByteBuffer destination)
                throws SSLException {
            return inner.wrap(sources, offset, length, destination);
        }

        @Override
        public SSLEngineResult unwrap(ByteBuffer source, ByteBuffer[] destinations, int offset, int length)
                throws SSLException {
            return inner.unwrap(source, destinations, offset, length);
        }

        @Override
        public Runnable getDelegatedTask() {
            return inner.getDelegatedTask();
        }

        @Override
        public void closeInbound() throws SSLException {
            inner.closeInbound();
        }

        @Override
        public boolean isInboundDone() {
            return inner.isInboundDone();
        }

        @Override
        public void closeOutbound() {
            inner.closeOutbound();
        }

        @Override
        public boolean isOutboundDone() {
            return inner.isOutboundDone();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return inner.getSupportedCipherSuites();
        }

        @Override
        public String[] getEnabledCipherSuites() {
            return inner.getEnabledCipherSuites();
        }

        @Override
        public void setEnabledCipherSuites(String[] suites) {
            inner.setEnabledCipherSuites(suites);
        }

        @Override
        public String[] getSupportedProtocols() {
            return inner.getSupportedProtocols();
        }

        @Override
        public String[] getEnabledProtocols() {
            return inner.getEnabledProtocols();
        }

        @Override
        public void setEnabledProtocols(String[] protocols) {
            inner.setEnabledProtocols(protocols);
        }

        @Override
        public SSLSession getSession() {
            return inner.getSession();
        }

        @Override
        public SSLSession getHandshakeSession() {
            return inner.getHandshakeSession();
        }

        @Override
        public void beginHandshake() throws SSLException {
            inner.beginHandshake();
        }

        @Override
        public SSLEngineResult.HandshakeStatus getHandshakeStatus() {
            return inner.getHandshakeStatus();
        }

        @Override
        public void setUseClientMode(boolean mode) {
            inner.setUseClientMode(mode);
        }

        @Override
        public boolean getUseClientMode() {
            return inner.getUseClientMode();
        }

        @Override
        public void setNeedClientAuth(boolean need) {
            inner.setNeedClientAuth(need);
        }

        @Override
        public boolean getNeedClientAuth() {
            return inner.getNeedClientAuth();
        }

        @Override
        public void setWantClientAuth(boolean want) {
            inner.setWantClientAuth(want);
        }

        @Override
        public boolean getWantClientAuth() {
            return inner.getWantClientAuth();
        }

        @Override
        public void setEnableSessionCreation(boolean flag) {
            inner.setEnableSessionCreation(flag);
        }

        @Override
        public boolean getEnableSessionCreation() {
            return inner.getEnableSessionCreation();
        }

        @Override
        public String getApplicationProtocol() {
            return inner.getApplicationProtocol();
        }

        @Override
        public String getHandshakeApplicationProtocol() {
            return inner.getHandshakeApplicationProtocol();
        }

        @Override
        public void setHandshakeApplicationProtocolSelector(BiFunction<SSLEngine, List<String>, String> selector) {
            inner.setHandshakeApplicationProtocolSelector(selector);
        }

        @Override
        public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
            return inner.getHandshakeApplicationProtocolSelector();
        }
    }
}
