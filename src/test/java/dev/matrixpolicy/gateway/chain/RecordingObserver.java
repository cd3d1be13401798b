package dev.matrixpolicy.gateway.chain;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link ChainObserver} that keeps everything it is told, for assertions. */
final class RecordingObserver implements ChainObserver {

    record LinkEvent(String callback, String module, LinkOutcome outcome, Throwable failure) {
    }

    record Decided(String callback, Decision<?> decision, String outcome) {
    }

    record Failed(String callback, ModuleFailedException failure) {
    }

    record Shadow(String callback, ShadowAnswer<?> answer, String outcome) {
    }

    private final List<LinkEvent> links = new CopyOnWriteArrayList<>();
    private final List<Decided> decided = new CopyOnWriteArrayList<>();
    private final List<Failed> failed = new CopyOnWriteArrayList<>();
    private final List<Shadow> shadows = new CopyOnWriteArrayList<>();

    @Override
    public void linkCompleted(String callback, String module, long nanos, LinkOutcome outcome, Throwable failure) {
        links.add(new LinkEvent(callback, module, outcome, failure));
    }

    @Override
    public void chainDecided(String callback, Decision<?> decision, String outcome, long nanos) {
        decided.add(new Decided(callback, decision, outcome));
    }

    @Override
    public void chainFailed(String callback, ModuleFailedException failure, long nanos) {
        failed.add(new Failed(callback, failure));
    }

    @Override
    public void shadowAnswered(String callback, ShadowAnswer<?> answer, String outcome) {
        shadows.add(new Shadow(callback, answer, outcome));
    }

    List<LinkEvent> links() {
        return List.copyOf(links);
    }

    List<Decided> decided() {
        return List.copyOf(decided);
    }

    List<Failed> failed() {
        return List.copyOf(failed);
    }

    List<Shadow> shadows() {
        return List.copyOf(shadows);
    }

    boolean heardNothing() {
        return links.isEmpty() && decided.isEmpty() && failed.isEmpty() && shadows.isEmpty();
    }
}
