package dev.matrixpolicy.gateway.files;

import java.util.concurrent.ThreadFactory;

/**
 * The gateway's own background threads: daemon platform threads, named, whose context class loader
 * is the gateway's, whichever thread starts them. A thread inherits its starter's: one started while
 * a request is answered (a module built by a reload the admin console asked for, a policy list's
 * first compile) would hold Tomcat's web application class loader, and Tomcat would warn at shutdown
 * that the application "appears to have started a thread ... but has failed to stop it".
 */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    /** A factory of such threads, each named {@code name}. */
    public static ThreadFactory named(String name) {
        ThreadFactory threads = Thread.ofPlatform().daemon().name(name).factory();
        ClassLoader gateway = DaemonThreads.class.getClassLoader();
        return task -> {
            Thread thread = threads.newThread(task);
            thread.setContextClassLoader(gateway);
            return thread;
        };
    }
}
