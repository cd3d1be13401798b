package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.JsonBody;
import dev.matrixpolicy.gateway.callbacks.UsersForStates;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetUsersForStates;
import dev.matrixpolicy.gateway.chain.Chain;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.modules.presencerouter.PresenceRouters;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One {@code get_users_for_states} request as the policy API answers it, from the body's bytes to the
 * answer's: the arguments read ({@link JsonBody}), the chain asked ({@code Accumulate}),
 * the compact answer written. The batch is {@link PresenceAnswerBenchmark}'s (256 KiB, 1,303 states)
 * and goes to {@code receivers} receivers of {@code ALL}; the module is {@code presence_router}, two
 * of them (so their answers are merged), one whose route lists every user of the batch as a source
 * ({@code listed_sources}), or one that answers with a JSON answer in the full form, read as the
 * {@code http} module reads its backend's (the reply's parsing left out). Run with
 * {@code -prof gc} for what each allocates.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class PresencePathBenchmark {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Param({"40"})
    public int receivers;
    @Param({"presence_router", "two_routers", "json_answer", "listed_sources"})
    public String module;
    private byte[] request;
    private ChainRunner runner;
    private ChainRunner.CompiledChain<GetUsersForStates.Args, UsersForStates> chain;

    @Setup
    public void chain() {
        ObjectNode body = JSON.createObjectNode().put("answer_form", "compact");
        body.putArray("state_updates").addAll(PresenceAnswerBenchmark.batch());
        request = JSON.writeValueAsBytes(body);
        List<String> users = new ArrayList<>();
        for (int n = 0; n < receivers; n++) {
            users.add("@support" + n + ":example.com");
        }
        GetUsersForStates router = PresenceRouters.toAll(users);
        List<GetUsersForStates> asked = switch (module) {
            case "presence_router" -> List.of(router);
            case "two_routers" -> List.of(router, PresenceRouters.toAll(users));
            // the receivers listed as receiving the presence of every user of the batch, by name
            case "listed_sources" -> List.of(PresenceRouters.route(users, PresenceAnswerBenchmark.batch().stream()
                    .map(state -> state.get("user_id").stringValue()).toList()));
            case "json_answer" -> {
                // parsed from bytes, as a backend's reply is: each receiver's states objects of their own
                JsonNode reply = JSON.readTree(JSON.writeValueAsBytes(GetUsersForStates.TYPE.resultType().toJson(
                        router.getUsersForStates(GetUsersForStates.TYPE.reader().apply(JsonArgs.of(body))))));
                yield List.of(GetUsersForStates.TYPE.fromFunction(args -> GetUsersForStates.TYPE.resultType().fromJson(reply)));
            }
            default -> throw new IllegalArgumentException(module);
        };
        runner = new ChainRunner(ChainObserver.NONE);
        List<Link<GetUsersForStates>> links = new ArrayList<>();
        asked.forEach(each -> links.add(new Link<>("router" + links.size(), each, FailurePolicy.FAIL_CLOSED, null)));
        chain = runner.compile(new Chain<>(GetUsersForStates.TYPE.name(), links),
                GetUsersForStates.TYPE.call(), GetUsersForStates.TYPE.rule(), GetUsersForStates.TYPE.resultType()::outcome);
    }

    @TearDown
    public void close() {
        runner.close();
    }

    @Benchmark
    public byte[] answer() {
        try (JsonParser parser = JSON.createParser(request)) {
            parser.nextToken();
            JsonBody body = JsonBody.read(JSON, request, parser);
            GetUsersForStates.Args args = GetUsersForStates.TYPE.reader().apply(JsonArgs.of(body));
            UsersForStates result = chain.decide(args).result();
            return JSON.writeValueAsBytes(PolicyAnswer.of(GetUsersForStates.TYPE.resultType(), result, true).body());
        }
    }
}
