/**
 * How the gateway tells that a file it watches changed, the one way for every reader of such a
 * file: a policy list's {@code FileSource}, {@code module.UserListFile}, the media hashes of
 * {@code content_rules}, the users of {@code password_file} and the reloader's configuration files.
 * {@link dev.matrixpolicy.gateway.files.FileVersion} tells one version of a file from the next
 * without reading it, and says when a read may have missed a rewrite within the modification time's
 * tick; {@link dev.matrixpolicy.gateway.files.Settling} is the wait between two reads of changed
 * content, so a file caught half written is not applied.
 * {@link dev.matrixpolicy.gateway.files.PeriodicCheck} is the thread that looks again every
 * interval, and its orderly stop, for every watcher that polls a file or a URL: the policy list
 * sources of files and URLs, {@code module.UserListFile}, the media hashes of {@code content_rules}
 * and the reloader's file watcher. {@link dev.matrixpolicy.gateway.files.ContentVerdicts} is what a
 * list reader made of the content it read: in force, or refused and not judged again until a read
 * fails or the list is put back. {@link dev.matrixpolicy.gateway.files.FileReadProblem} is why a file
 * could not be read or used, in the words an admin acts on, the same from every reader.
 * {@link dev.matrixpolicy.gateway.files.DaemonThreads} makes those threads, and the policy list's compiler thread, with the
 * gateway's own class loader, whichever thread starts them.
 *
 * <p>Pure Java, at the bottom of the layering beside {@code replies} and {@code hashing}: it uses no
 * other package of the gateway and no Spring, so the extension point, the modules, the pure cores
 * ({@code policylist}) and the reloader can all use it.
 */
package dev.matrixpolicy.gateway.files;
