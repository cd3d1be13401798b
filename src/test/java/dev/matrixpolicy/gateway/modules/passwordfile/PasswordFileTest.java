package dev.matrixpolicy.gateway.modules.passwordfile;

import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.BUILDER_ARGON2;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.BUILDER_BCRYPT;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.WONDERLAND_ARGON2;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.WONDERLAND_BCRYPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.modules.passwordfile.PasswordFileConfig.CustomLoginType;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.MovableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Authentication against the file and inline users, enumeration resistance, and reloading. */
class PasswordFileTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("users loaded before");

    /** The store's lines, DEBUG up, kept off the console. */
    @RegisterExtension
    final LoggedLines logged = LoggedLines.of(CredentialStore.class, Level.DEBUG);

    private static final Duration CHECK_EVERY = Duration.ofSeconds(10);
    private static final int PROCESSORS = Runtime.getRuntime().availableProcessors();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path directory;

    Path file;
    final AtomicLong clock = new AtomicLong();
    /** The wall clock, long after the modification times {@link #write} gives. */
    final MovableClock wallClock = new MovableClock(Instant.parse("2025-01-01T00:00:00Z"));
    final List<PasswordHash> verified = new CopyOnWriteArrayList<>();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    final Logger storeLogger = (Logger) LoggerFactory.getLogger(CredentialStore.class);

    /** Spring Security's verification, counted. */
    final PasswordVerifier counting = (password, hash) -> {
        verified.add(hash);
        return PasswordVerifier.SPRING_SECURITY.matches(password, hash);
    };

    @BeforeEach
    void writeFileAndWatchLogs() throws IOException {
        file = directory.resolve("passwords");
        write("# team\nalice:" + WONDERLAND_BCRYPT + "\ncarol:" + BUILDER_BCRYPT + "\nbob:" + BUILDER_ARGON2 + "\n", 1);
        logs.start();
        storeLogger.addAppender(logs);
    }

    @AfterEach
    void stopWatchingLogs() {
        storeLogger.detachAppender(logs);
    }

    private PasswordFile module(Map<String, String> inline, CustomLoginType custom, Integer maxConcurrent) {
        PasswordFileConfig config = new PasswordFileConfig(file, inline, custom, CHECK_EVERY, maxConcurrent);
        return new PasswordFileModuleType(Hashes.LIMITS).create(config, new ModuleContext("passwords", "example.com", meters),
                counting, clock::get, wallClock);
    }

    private PasswordFile module() {
        return module(Map.of(), null, null);
    }

    private static Optional<String> login(PasswordFile module, String user, String password) {
        return login(module, PasswordFile.PASSWORD, user, password);
    }

    private static Optional<String> login(PasswordFile module, LoginType type, String user, String secret) {
        ObjectNode loginDict = JSON.createObjectNode().put(type.fields().getFirst(), secret);
        CheckAuth checker = module.authCheckers().get(type);
        return checker.checkAuth(new CheckAuth.Args(user, type.type(), loginDict));
    }

    /** Writes the file with a modification time of its own, so a change is visible even on coarse clocks. */
    private void write(String content, int version) throws IOException {
        Files.writeString(file, content);
        Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2024-01-01T00:00:00Z").plusSeconds(version)));
    }

    private void passCheckInterval() {
        clock.addAndGet(CHECK_EVERY.toNanos());
    }

    @Test
    void bcryptUserWithTheRightPasswordIsAnsweredWithTheFullUserId() {
        assertThat(login(module(), "alice", "wonderland")).contains("@alice:example.com");
    }

    @Test
    void bcryptUserWithAWrongPasswordIsNotAuthenticated() {
        assertThat(login(module(), "alice", "builder")).isEmpty();
    }

    @Test
    void argon2idUserWithTheRightPasswordIsAuthenticated() {
        assertThat(login(module(), "bob", "builder")).contains("@bob:example.com");
    }

    @Test
    void argon2idUserWithAWrongPasswordIsNotAuthenticated() {
        assertThat(login(module(), "bob", "wonderland")).isEmpty();
    }

    @Test
    void fullUserIdOnOurServerWorksLikeTheLocalpart() {
        assertThat(login(module(), "@alice:example.com", "wonderland")).contains("@alice:example.com");
    }

    @Test
    void userNameCaseIsFoldedAsSynapseDoes() {
        PasswordFile module = module();

        assertThat(login(module, "@Alice:Example.com", "wonderland")).contains("@alice:example.com");
        assertThat(login(module, "ALICE", "wonderland")).contains("@alice:example.com");
    }

    @Test
    void userOfAnotherServerIsNotOursAndCostsNoVerification() {
        assertThat(login(module(), "@alice:example.org", "wonderland")).isEmpty();
        assertThat(verified).isEmpty();
    }

    @Test
    void knownUserCostsExactlyOneVerificationAgainstTheirHash() {
        PasswordFile module = module();

        login(module, "alice", "not-it");

        assertThat(verified).extracting(PasswordHash::encoded).containsExactly(WONDERLAND_BCRYPT);
    }

    @Test
    void unknownUserStillCostsOneVerificationAgainstADummyOfAKnownUsersCost() {
        PasswordFile module = module();

        assertThat(login(module, "mallory", "wonderland")).isEmpty();

        assertThat(verified).hasSize(1);
        PasswordHash dummy = verified.getFirst();
        assertThat(dummy.cost()).isIn("bcrypt/4", PasswordHash.parse(BUILDER_ARGON2, Hashes.LIMITS).cost());
        assertThat(dummy.encoded()).isNotIn(WONDERLAND_BCRYPT, BUILDER_BCRYPT, BUILDER_ARGON2);
    }

    @Test
    void unknownUsersTakeEveryCostKnownUsersHaveInTheirProportionsAndEachNameAlwaysTheSame() {
        PasswordFile module = module(); // alice and carol bcrypt cost 4, bob argon2id
        String argon2 = PasswordHash.parse(BUILDER_ARGON2, Hashes.LIMITS).cost();
        Map<String, Long> namesByCost = new HashMap<>();

        for (int i = 0; i < 300; i++) {
            verified.clear();
            login(module, "stranger" + i, "first try");
            login(module, "stranger" + i, "second try");

            assertThat(verified).hasSize(2);
            assertThat(verified.get(1)).as("the same name meets the same dummy every time").isSameAs(verified.get(0));
            namesByCost.merge(verified.getFirst().cost(), 1L, Long::sum);
        }

        // One known user in three has the argon2id cost: about 100 of 300 unknown names should too.
        assertThat(namesByCost).containsOnlyKeys("bcrypt/4", argon2);
        assertThat(namesByCost.get(argon2)).isBetween(60L, 140L);
    }

    @Test
    void unknownUserGivingAKnownUsersPasswordIsStillRefused() {
        assertThat(login(module(), "@mallory:example.com", "wonderland")).isEmpty();
    }

    @Test
    void inlineUsersAreCheckedAlongsideTheFile() {
        PasswordFile module = module(Map.of("dave", WONDERLAND_ARGON2), null, null);

        assertThat(login(module, "dave", "wonderland")).contains("@dave:example.com");
        assertThat(login(module, "alice", "wonderland")).contains("@alice:example.com");
    }

    @Test
    void customLoginTypeChecksItsOwnFieldAgainstTheSameHashes() {
        LoginType custom = LoginType.of("my.login_type", "my_field");
        PasswordFile module = module(Map.of(), new CustomLoginType("my.login_type", "my_field"), null);

        assertThat(module.authCheckers()).containsOnlyKeys(PasswordFile.PASSWORD, custom);
        assertThat(login(module, custom, "carol", "builder")).contains("@carol:example.com");
        assertThat(login(module, custom, "carol", "wonderland")).isEmpty();
    }

    @Test
    void secretThatIsNotAStringIsNotAuthenticated() {
        ObjectNode loginDict = JSON.createObjectNode().put("password", 1234);

        assertThat(module().authCheckers().get(PasswordFile.PASSWORD)
                .checkAuth(new CheckAuth.Args("alice", "m.login.password", loginDict))).isEmpty();
    }

    /**
     * Half a surrogate pair, which a JSON escape carries and no UTF-8 can, is in no password a tool
     * hashed: bcrypt read it as {@code ?}, so it stood for one, and argon2id's hashing threw on it.
     */
    @Test
    void passwordHoldingHalfASurrogatePairIsAnsweredAtOnceAndMatchesNoOne() {
        PasswordFile module = module(Map.of("dave", new BCryptPasswordEncoder(4).encode("wonder?land")), null, null);

        assertThat(login(module, "dave", "wonder\uD800land")).isEmpty();
        assertThat(login(module, "bob", "build\uDC00er")).isEmpty();
        assertThat(verified).isEmpty();
        assertThat(login(module, "dave", "wonder?land")).contains("@dave:example.com");
    }

    @Test
    void mayBlockSoTheChainGivesItADeadline() {
        assertThat(module().mayBlock()).isTrue();
    }

    @Test
    void hasNoWorstCaseSinceNothingBoundsTheWaitForAVerificationSlot() {
        assertThat(module().worstCase()).isEmpty();
    }

    @Test
    void changedFileIsReloadedOnceTheCheckIntervalHasPassed() throws IOException {
        PasswordFile module = module();
        write("alice:" + BUILDER_BCRYPT + "\n", 2);

        assertThat(login(module, "alice", "wonderland")).as("not checked again yet").contains("@alice:example.com");

        passCheckInterval();
        assertThat(login(module, "alice", "builder")).contains("@alice:example.com");
        assertThat(login(module, "alice", "wonderland")).isEmpty();
        assertThat(login(module, "bob", "builder")).as("bob left the file").isEmpty();
        assertThat(meters.get("policy.module.credentials.reloads").tags("outcome", "loaded").counter().count()).isEqualTo(1);
        assertThat(meters.get("policy.module.credentials").tags("module", "passwords").gauge().value()).isEqualTo(1);
    }

    @Test
    void brokenFileKeepsTheOldCredentialsAndWarnsOnceWithoutTheSecret() throws IOException {
        PasswordFile module = module();
        write("alice:hunter2\n", 2);

        for (int check = 0; check < 3; check++) {
            passCheckInterval();
            assertThat(login(module, "alice", "wonderland")).contains("@alice:example.com");
        }

        List<ILoggingEvent> warnings = logs.list.stream().filter(event -> event.getLevel() == Level.WARN).toList();
        assertThat(warnings).hasSize(1);
        assertThat(warnings.getFirst().getFormattedMessage())
                .contains("passwords").contains("keeping the 3 users").contains("line 1 (user 'alice')")
                .doesNotContain("hunter2");
        assertThat(warnings.getFirst().getThrowableProxy()).isNull();
        assertThat(meters.get("policy.module.credentials.reloads").tags("outcome", "rejected").counter().count()).isEqualTo(1);
    }

    @Test
    void aHashTooDearToVerifyKeepsTheOldCredentialsAndSaysWhichLineAndWhy() throws IOException {
        PasswordFile module = module();
        write("alice:" + WONDERLAND_BCRYPT + "\nzed:$2b$31$" + WONDERLAND_BCRYPT.substring(7) + "\n", 2);

        passCheckInterval();
        assertThat(login(module, "alice", "wonderland")).contains("@alice:example.com");
        assertThat(login(module, "carol", "builder")).as("the users loaded before").contains("@carol:example.com");

        assertThat(logs.list).filteredOn(event -> event.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString()
                .contains("keeping the 3 users").contains("line 2 (user 'zed'): bcrypt cost 31 is outside 4..16");
    }

    @Test
    void anEmptiedFileKeepsTheOldCredentialsButOneWithOnlyACommentRemovesEveryUser() throws IOException {
        PasswordFile module = module();
        write("", 2);
        passCheckInterval();
        assertThat(login(module, "alice", "wonderland")).contains("@alice:example.com");
        assertThat(logs.list).filteredOn(event -> event.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString()
                .contains("keeping the 3 users").contains("passwords is empty; write the file whole and move it into place");

        write("# nobody, for now\n", 3);
        passCheckInterval();
        assertThat(login(module, "alice", "wonderland")).isEmpty();
    }

    @Test
    void aFileSavedWithAByteOrderMarkIsReadFromItsFirstUser() throws IOException {
        PasswordFile module = module();
        write("\uFEFFalice:" + WONDERLAND_BCRYPT + "\r\ncarol:" + BUILDER_BCRYPT + "\r\n", 2);
        passCheckInterval();

        assertThat(login(module, "alice", "wonderland")).contains("@alice:example.com");
        assertThat(logs.list).noneMatch(event -> event.getLevel() == Level.WARN);
    }

    @Test
    void fixedFileIsLoadedAfterABrokenOne() throws IOException {
        PasswordFile module = module();
        write("alice:hunter2\n", 2);
        passCheckInterval();
        login(module, "alice", "wonderland");

        write("alice:" + BUILDER_BCRYPT + "\n", 3);
        passCheckInterval();

        assertThat(login(module, "alice", "builder")).contains("@alice:example.com");
    }

    @Test
    void deletedFileKeepsTheOldCredentials() throws IOException {
        PasswordFile module = module();
        Files.delete(file);

        passCheckInterval();
        assertThat(login(module, "alice", "wonderland")).contains("@alice:example.com");
        passCheckInterval();
        login(module, "alice", "wonderland");

        assertThat(logs.list.stream().filter(event -> event.getLevel() == Level.WARN)).hasSize(1);
    }

    @Test
    void anUnreadablePasswordFileIsOneWarningUntilItReadsAgain() throws IOException {
        PasswordFile module = module();
        Files.delete(file);
        for (int check = 0; check < 3; check++) {
            passCheckInterval();
            assertThat(login(module, "alice", "wonderland")).contains("@alice:example.com");
        }

        assertThat(logged.at(Level.WARN)).containsExactly("password_file 'passwords': keeping the 3 users loaded before; " + file
                + " does not exist: create it, or correct the path");
        assertThat(logged.at(Level.DEBUG)).hasSize(2).last().asString().contains("(3 failed checks)");
        assertThat(meters.get("policy.module.credentials.reloads").tags("outcome", "rejected").counter().count()).isEqualTo(1);
        assertThat(module.listSources()).singleElement().satisfies(source ->
                assertThat(source.status().failures()).as("every failed check counts").isEqualTo(3));

        write("alice:" + BUILDER_BCRYPT + "\n", 2);
        passCheckInterval();
        assertThat(login(module, "alice", "builder")).contains("@alice:example.com");
        passCheckInterval();
        login(module, "alice", "builder");

        assertThat(logged.at(Level.INFO)).filteredOn(line -> line.contains("reads again")).containsExactly(
                "password_file 'passwords': " + file + " reads again, after 3 failed attempt(s) since " + wallClock.instant());
        assertThat(logged.at(Level.WARN)).hasSize(1);
    }

    @Test
    void aPasswordChangedWithinTheModificationTimesTickIsApplied() throws IOException {
        Instant modified = wallClock.instant().minusMillis(500);
        write("alice:" + WONDERLAND_BCRYPT + "\n", 1);
        Files.setLastModifiedTime(file, FileTime.from(modified));
        PasswordFile module = module(); // read half a second after the file was written: a rewrite in that tick may follow

        // a bcrypt hash for another has the same length: the file keeps its size and, on a coarse clock, its time
        write("alice:" + BUILDER_BCRYPT + "\n", 1);
        Files.setLastModifiedTime(file, FileTime.from(modified));
        passCheckInterval();
        wallClock.advance(Duration.ofMinutes(1));

        assertThat(login(module, "alice", "builder")).contains("@alice:example.com");
        assertThat(login(module, "alice", "wonderland")).isEmpty();
    }

    @Test
    void aPasswordFileNotInUtf8IsReadAgainOnceCorrectedInPlace() throws IOException {
        PasswordFile module = module();
        // not UTF-8 at first, then corrected in place: the same size, time and file
        byte[] latin1 = ("# caf\u00e9\nalice:" + BUILDER_BCRYPT + "\n").getBytes(StandardCharsets.ISO_8859_1);
        Files.write(file, latin1);
        Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2024-01-01T00:00:02Z")));
        passCheckInterval();
        assertThat(login(module, "alice", "builder")).as("refused").isEmpty();

        Files.writeString(file, "# cafe\nalice:" + BUILDER_BCRYPT + "\n");
        Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2024-01-01T00:00:02Z")));
        passCheckInterval();

        assertThat(login(module, "alice", "builder")).contains("@alice:example.com");
        assertThat(logs.list).filteredOn(event -> event.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString().contains(file + " is not valid UTF-8");
    }

    @Test
    void aPasswordFileThatMayNotBeReadIsReadAgainOnceItsPermissionsAreFixed() throws IOException {
        PasswordFile module = module();
        write("alice:" + BUILDER_BCRYPT + "\n", 2);
        Set<PosixFilePermission> readable = Files.getPosixFilePermissions(file);
        Files.setPosixFilePermissions(file, Set.of());
        try {
            assumeThat(Files.isReadable(file)).as("a user the permissions bind (not root)").isFalse();
            passCheckInterval();
            assertThat(login(module, "alice", "builder")).as("unreadable").isEmpty();
        } finally {
            Files.setPosixFilePermissions(file, readable); // chmod: neither the time nor the size changes
        }
        passCheckInterval();

        assertThat(login(module, "alice", "builder")).contains("@alice:example.com");
        assertThat(logs.list).filteredOn(event -> event.getLevel() == Level.WARN).singleElement()
                .extracting(ILoggingEvent::getFormattedMessage).asString().contains("may not be read by the gateway's user");
    }

    @Test
    void aRefusedPasswordFileStaysReportedUntilItIsCorrected() throws IOException {
        PasswordFile module = module();
        write("alice:hunter2\n", 2);
        for (int check = 0; check < 3; check++) {
            passCheckInterval();
            login(module, "alice", "wonderland");
        }
        assertThat(module.listSources()).singleElement().satisfies(source ->
                assertThat(source.status().lastError()).hasValueSatisfying(error -> assertThat(error).contains("line 1 (user 'alice')")));

        write("alice:" + BUILDER_BCRYPT + "\n", 3);
        passCheckInterval();
        login(module, "alice", "builder");

        assertThat(module.listSources()).singleElement().satisfies(source -> assertThat(source.status().lastError()).isEmpty());
    }

    @Test
    void refusedContentBackAfterAFailedReadIsReportedAgainNotTheFailedRead() throws IOException {
        PasswordFile module = module();
        write("alice:hunter2\n", 2);
        passCheckInterval();
        login(module, "alice", "wonderland");
        Files.delete(file);
        passCheckInterval();
        login(module, "alice", "wonderland");
        assertThat(module.listSources()).singleElement().satisfies(source ->
                assertThat(source.status().lastError()).hasValueSatisfying(error -> assertThat(error).contains("does not exist")));

        write("alice:hunter2\n", 2);
        passCheckInterval();
        login(module, "alice", "wonderland");

        assertThat(module.listSources()).singleElement().satisfies(source ->
                assertThat(source.status().lastError()).hasValueSatisfying(error -> assertThat(error).contains("line 1 (user 'alice')")));
    }

    /** A file truncated before a restart is a file of no user, as one meant to be empty is, but it is said in a warning. */
    @Test
    void anEmptyPasswordFileAtStartupIsNoUserAndAWarning() throws IOException {
        write("", 2);
        assertThat(login(module(), "alice", "wonderland")).isEmpty();
        assertThat(logged.at(Level.WARN)).singleElement().asString().startsWith("password_file 'passwords': " + file
                + " is empty, not even a comment: no user of it is in force");
    }

    @Test
    void aPasswordFileOfACommentAloneAtStartupIsNoUserWithoutAWarning() throws IOException {
        write("# nobody yet\n", 2);
        assertThat(login(module(), "alice", "wonderland")).isEmpty();
        assertThat(logged.at(Level.WARN)).isEmpty();
    }

    @Test
    void argon2idVerificationsAtOnceHoldNoMoreThanHalfTheHeapWhateverTheirNumber() throws Exception {
        // bob's argon2id hash takes m=64 KiB: a heap of 128 KiB leaves room for one verification at a time
        assertThat(mostVerificationsAtOnce("bob", 4, PasswordHash.Limits.of(128 * 1024))).isEqualTo(1);
    }

    @Test
    void atMostTheConfiguredNumberOfVerificationsRunAtOnce() throws Exception {
        assertThat(mostVerificationsAtOnce("alice", 2, Hashes.LIMITS)).isBetween(1, 2);
    }

    /**
     * A verification holds its carrier thread until it ends, and requests run on two carriers per
     * processor: two entries (or an instance and the one a reload builds in its place), each allowing
     * as many as there are processors, would take every carrier from the other requests.
     */
    @Test
    void verificationsOfEveryInstanceTogetherRunOnNoMoreThanTheProcessors() throws Exception {
        assertThat(mostVerificationsAtOnce("alice", PROCESSORS, Hashes.LIMITS, 2)).isBetween(1, PROCESSORS);
    }

    @Test
    void argon2idVerificationsOfEveryInstanceShareTheOneHalfOfTheHeap() throws Exception {
        // two entries, or an instance and the one a reload builds in its place: room for one bob at a time in all
        assertThat(mostVerificationsAtOnce("bob", 4, PasswordHash.Limits.of(128 * 1024), 2)).isEqualTo(1);
    }

    /**
     * A reload that brings a new argon2id cost makes its dummy on a login's thread: it waits, as a
     * verification of that cost would, while the verifications running hold the budget.
     */
    @Test
    void aNewArgon2idCostsDummyIsMadeWithinTheBudgetTheVerificationsShare() throws Exception {
        CountDownLatch verifying = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        PasswordFile module = oneArgon2idAtATime(4, heldArgon2(verifying, finish));

        try (ExecutorService threads = Executors.newFixedThreadPool(2)) {
            Future<Optional<String>> bob = threads.submit(() -> login(module, "bob", "builder"));
            verifying.await();
            String newCost = new Argon2PasswordEncoder(16, 32, 1, 64, 2).encode("dave's");
            write("alice:" + WONDERLAND_BCRYPT + "\nbob:" + BUILDER_ARGON2 + "\ndave:" + newCost + "\n", 2);
            passCheckInterval();
            Future<Optional<String>> alice = threads.submit(() -> login(module, "alice", "wonderland"));

            try {
                assertThatExceptionOfType(TimeoutException.class).as("alice's login reloads, and the new cost's dummy waits for bob's memory")
                        .isThrownBy(() -> alice.get(1, TimeUnit.SECONDS));
            } finally {
                finish.countDown();
            }
            assertThat(alice.get(10, TimeUnit.SECONDS)).contains("@alice:example.com");
            assertThat(bob.get(10, TimeUnit.SECONDS)).contains("@bob:example.com");
        }
        assertThat(module.credentials().current().dummies().byCost()).containsKey(PasswordHash.parse(
                new Argon2PasswordEncoder(16, 32, 1, 64, 2).encode("any"), Hashes.LIMITS).cost());
    }

    /**
     * A verification waits for its heap before it takes a slot, its entry's or a processor: argon2id
     * verifications waiting for the heap hold none, and a bcrypt login finds one free.
     */
    @Test
    void aBcryptLoginNeverWaitsForASlotBehindArgon2idVerificationsWaitingForTheHeap() throws Exception {
        assumeThat(PROCESSORS).as("a processor for the argon2id verification held, and one for the bcrypt login").isGreaterThan(1);
        CountDownLatch verifying = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        PasswordFile module = oneArgon2idAtATime(PROCESSORS, heldArgon2(verifying, finish));
        List<Thread> bobs = new CopyOnWriteArrayList<>();

        try (ExecutorService threads = Executors.newFixedThreadPool(PROCESSORS + 1)) {
            List<Future<Optional<String>>> bobLogins = new ArrayList<>();
            for (int i = 0; i < PROCESSORS; i++) {
                bobLogins.add(threads.submit(() -> {
                    bobs.add(Thread.currentThread());
                    return login(module, "bob", "builder");
                }));
            }
            verifying.await();
            // one verifying, held; the others waiting for its heap
            while (bobs.size() < PROCESSORS || !bobs.stream().allMatch(bob -> bob.getState() == Thread.State.WAITING)) {
                Thread.onSpinWait();
            }
            Future<Optional<String>> alice = threads.submit(() -> login(module, "alice", "wonderland"));

            try {
                assertThat(alice.get(5, TimeUnit.SECONDS)).as("checked while bob's logins hold or wait for the heap")
                        .contains("@alice:example.com");
            } finally {
                finish.countDown();
            }
            for (Future<Optional<String>> bob : bobLogins) {
                assertThat(bob.get(10, TimeUnit.SECONDS)).contains("@bob:example.com");
            }
        }
    }

    /** Room for one of bob's argon2id verifications at a time (or one dummy of its cost): a heap of 128 KiB, since it takes m=64 KiB. */
    private PasswordFile oneArgon2idAtATime(int maxConcurrent, PasswordVerifier verifier) {
        return new PasswordFileModuleType(PasswordHash.Limits.of(128 * 1024)).create(
                new PasswordFileConfig(file, Map.of(), null, CHECK_EVERY, maxConcurrent),
                new ModuleContext("passwords", "example.com", meters), verifier, clock::get, wallClock);
    }

    /** Spring Security's verification, where argon2id ones say they run and then wait for {@code finish}. */
    private static PasswordVerifier heldArgon2(CountDownLatch verifying, CountDownLatch finish) {
        return (password, hash) -> {
            if (hash.memoryKib() > 0) {
                verifying.countDown();
                try {
                    finish.await();
                } catch (InterruptedException stopped) {
                    Thread.currentThread().interrupt();
                }
            }
            return PasswordVerifier.SPRING_SECURITY.matches(password, hash);
        };
    }

    /**
     * The most verifications that ran at once, each taking 20 ms, for logins of {@code user} on twice as
     * many threads as verifications may run on the processors of two instances (8 at least).
     */
    private int mostVerificationsAtOnce(String user, int maxConcurrent, PasswordHash.Limits limits) {
        return mostVerificationsAtOnce(user, maxConcurrent, limits, 1);
    }

    /** The same, the logins taking turns among {@code instances} instances that one module type built. */
    private int mostVerificationsAtOnce(String user, int maxConcurrent, PasswordHash.Limits limits, int instances) {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        PasswordVerifier slow = (password, hash) -> {
            mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                Thread.sleep(20);
            } catch (InterruptedException stopped) {
                Thread.currentThread().interrupt();
            }
            running.decrementAndGet();
            return false;
        };
        PasswordFileModuleType type = new PasswordFileModuleType(limits);
        List<PasswordFile> modules = new ArrayList<>();
        for (int i = 0; i < instances; i++) {
            modules.add(type.create(new PasswordFileConfig(file, Map.of(), null, CHECK_EVERY, maxConcurrent),
                    new ModuleContext("passwords-" + i, "example.com", meters), slow, clock::get, wallClock));
        }

        int threadCount = Math.max(8, 4 * PROCESSORS);
        try (ExecutorService threads = Executors.newFixedThreadPool(threadCount)) {
            for (int i = 0; i < 2 * threadCount; i++) {
                PasswordFile module = modules.get(i % instances);
                threads.submit(() -> login(module, user, "wrong"));
            }
        }
        return mostAtOnce.get();
    }
}
