package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.replies.Durations;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import dev.matrixpolicy.gateway.replies.ReplyTooLargeException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A policy list served over HTTP ({@link RuleText}'s formats), polled with {@code If-None-Match} and
 * {@code If-Modified-Since}, so an unchanged list costs a 304 and no parsing. The body is read by the
 * gateway's one {@link ReplyCap} rule, up to the source's {@code max-size}.
 */
public final class UrlSource extends PollingSource {
    private final URI url;
    private final Duration timeout;
    /** The least time a body may take in all, however short the poll interval: a large list on a slow link. */
    static final Duration SLOW_LIST = Duration.ofMinutes(10);
    /** The JDK client's limit of redirects in a row ({@code jdk.httpclient.redirects.retrylimit}). */
    static final int MOST_REDIRECTS = Integer.getInteger("jdk.httpclient.redirects.retrylimit", 5);
    /** How long a body may take in all: the poll interval or {@link #SLOW_LIST}, whichever is longer, and the timeout. */
    private final Duration deadline;
    private final ReplyCap maxSize;
    private final HttpClient http;
    private Optional<String> etag = Optional.empty();
    private Optional<String> lastModified = Optional.empty();
    /** The validators of the reply in hand: kept as {@link #etag} and {@link #lastModified} once its content is taken. */
    private HttpHeaders replied = HttpHeaders.of(Map.of(), (name, value) -> true);

    /**
     * @param maxSize the largest body read, in bytes, and at most a quarter of the heap; a larger list is
     *                refused (and the last good one kept)
     * @throws IllegalArgumentException when {@code maxSize} is not between 1 byte and {@link ReplyCap#LARGEST}
     */
    public UrlSource(String name, URI url, Duration pollInterval, Duration timeout, long maxSize, Clock clock) {
        this(name, url, pollInterval, timeout, maxSize, SLOW_LIST, clock);
    }

    /** @param slowList the least time a body may take in all (for tests: {@link #SLOW_LIST} otherwise) */
    UrlSource(String name, URI url, Duration pollInterval, Duration timeout, long maxSize, Duration slowList, Clock clock) {
        super(name, pollInterval, clock, false);
        this.url = url;
        this.timeout = timeout;
        this.deadline = (pollInterval.compareTo(slowList) > 0 ? pollInterval : slowList).plus(timeout);
        // A list server decides what it sends: a body past a quarter of the heap would leave no room for the
        // rules it holds (and the index built from them), whatever max-size allows.
        long heldTo = Math.min(maxSize, Runtime.getRuntime().maxMemory() / 4);
        this.maxSize = new ReplyCap(heldTo < maxSize ? "max-size (held to a quarter of the heap)" : "max-size", heldTo);
        this.http = HttpClient.newBuilder()
                // HTTP/1.1, as a policy room's homeserver is asked: no h2c upgrade offered to a plain-http list
                // server, which some servers and proxies answer with an error
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    @Override
    Read readIfChanged() throws IOException, InterruptedException {
        boolean conditional = etag.isPresent() || lastModified.isPresent();
        HttpResponse<InputStream> response = send(conditional);
        if (response.statusCode() == 412 && conditional) {
            // If-None-Match and If-Modified-Since ask for a 304, never a 412 (RFC 9110, 13.1.2 and 13.1.3), yet
            // some servers and proxies refuse a validator they no longer know: asked again as for the first
            // time, so that a validator the server will not take cannot fail every later poll
            response.body().close();
            forget();
            response = send(false);
        }
        // The request timeout ends once the headers arrive: a body that then stops coming, or trickles in,
        // would block this source's only thread for good, its last good rules never refreshed and no
        // failure shown. So it must keep moving, and have ended by a deadline that a large list on a slow
        // link still meets.
        StallGuard guarded = new StallGuard(response.body(), timeout, deadline);
        try (InputStream body = guarded) {
            if (response.statusCode() == 304) {
                if (etag.isEmpty() && lastModified.isEmpty()) {
                    // nothing was asked to be compared: "unchanged" from what? Taking it as a good read
                    // would call a source that never sent a rule fresh
                    throw new IOException("HTTP 304 Not Modified to a request without If-None-Match or If-Modified-Since");
                }
                return Read.UNCHANGED;
            }
            if (response.statusCode() / 100 == 3) {
                // the JDK hands back the redirect it will not follow: to another scheme (file:), from https to
                // http, or one past its limit, which a loop reaches; "HTTP 302" alone would not say which
                throw new IOException("HTTP " + response.statusCode() + ", a redirect not followed (" + target(response)
                        + "): a source follows " + MOST_REDIRECTS + " in a row at most, from http or https to http or https, "
                        + "never from https to http");
            }
            if (response.statusCode() != 200) {
                throw new IOException("HTTP " + response.statusCode());
            }
            byte[] bytes;
            try {
                bytes = maxSize.read(body, response.headers().firstValueAsLong("Content-Length").orElse(-1));
            } catch (IOException broken) {
                if (guarded.stalled()) {
                    throw new IOException("the list stopped coming for " + Durations.format(timeout), broken);
                }
                if (guarded.overdue()) {
                    throw new IOException("the list took longer than " + Durations.format(deadline) + " to come", broken);
                }
                if (ReplyTooLargeException.in(broken) != null) {
                    throw broken;
                }
                // the JDK says "closed" of a body cut short of its Content-Length or last chunk; the bytes it
                // got, which it also says, would make each cut a new failure and a new WARN line
                throw new IOException("the list broke off before its end", broken);
            }
            replied = response.headers();
            return new Read.Content(bytes);
        }
    }

    /** Asks for the list, with the validators of the last list taken when {@code conditional}. */
    private HttpResponse<InputStream> send(boolean conditional) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout).GET()
                .header("Accept", "application/json, text/plain");
        if (conditional) {
            etag.ifPresent(tag -> request.header("If-None-Match", tag));
            lastModified.ifPresent(date -> request.header("If-Modified-Since", date));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** Where a redirect points, as {@link #shown} shows a URL: resolved against the URL that answered it. */
    private static String target(HttpResponse<?> redirect) {
        Optional<String> location = redirect.headers().firstValue("Location");
        if (location.isEmpty()) {
            return "no Location";
        }
        try {
            URI to = redirect.uri().resolve(location.get());
            return "to " + (to.getScheme() == null || to.getRawAuthority() == null ? to.getScheme() + ":…" : shown(to));
        } catch (IllegalArgumentException notAUrl) {
            return "to something that is not a URL";
        }
    }

    @Override
    void took() {
        etag = replied.firstValue("ETag");
        lastModified = replied.firstValue("Last-Modified");
    }

    @Override
    void forget() {
        etag = Optional.empty();
        lastModified = Optional.empty();
    }

    @Override
    String location() {
        return shown(url);
    }

    /**
     * A list's URL as logs and status pages show it: its scheme, host, port and path, and a query only as
     * {@code ?…}, since a list served behind a token often takes it there.
     */
    public static String shown(URI url) {
        // the authority as written: a host Java takes for a registry name (one with '_') has no getHost();
        // a configured URL has no user:password@ (BackendUrls refuses it)
        String shown = url.getScheme() + "://" + url.getRawAuthority() + (url.getRawPath() == null ? "" : url.getRawPath());
        return url.getRawQuery() == null ? shown : shown + "?…";
    }

    /**
     * Stops polling and aborts a read in flight at once, as the policy room source does: the JDK
     * client's {@code close()} waits for every exchange to end, which a list server holding its answer
     * never ends, and a reload or the gateway's stop then waited with it.
     */
    @Override
    public void close() {
        super.close();
        http.shutdownNow();
    }
}
