package dev.matrixpolicy.gateway;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import dev.matrixpolicy.gateway.support.ProductionClasses;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.ControllerAdvice;

/**
 * Which package of the gateway may use which, so that the layering stays as the package docs
 * describe it while the code grows. From the bottom up:
 *
 * <ol>
 *   <li>{@code replies}, the one rule for reading a backend's reply within a cap (pure Java, used by
 *       every package that reads a reply: the extension point's {@code Backend}, policy list
 *       sources, the policy server's key fetches), the heap budget that replies and request bodies
 *       held at once share, and how sizes and durations are written in messages, {@code hashing}, the one way to take a SHA-256, and
 *       {@code files}, the one way to tell that a watched file changed, to look at a file or URL
 *       again every interval and to say why a file could not be read (used by policy list sources, the extension point's user list files,
 *       modules' own files and the reloader), {@code outage},
 *       the one way to log that something fails and works again, all of which
 *       therefore sit below them all;</li>
 *   <li>{@code chain} (pure Java) and {@code matrix} (the ID grammars, over {@code matrix.glob}, the glob
 *       automaton), then {@code policylist}, the pure
 *       core of policy lists; {@code policyserver}, the pure signing core of a room's policy server
 *       (MSC4284), and {@code state}, the counters limits share across replicas (in memory or Redis),
 *       stand alone;</li>
 *   <li>{@code callbacks}, the callback vocabulary, then {@code callbacks.<category>}, one interface
 *       per Synapse callback, then {@code callbacks.catalog}, the list of them all;</li>
 *   <li>{@code module}, the extension point, and {@code modules.<name>}, the built-in modules;</li>
 *   <li>{@code dispatch}, the chains assembled from the configured module instances;</li>
 *   <li>{@code decisions}, the decision log: pure Java over the Matrix ID grammars, fed by {@code api}
 *       and shown by {@code observability};</li>
 *   <li>{@code config}, {@code api}, {@code observability}, {@code server}: Spring and the web.</li>
 * </ol>
 *
 * Each test is named after the rule it holds. Only production classes are checked.
 */
class PackageRulesTest {
    private static final String GATEWAY = "dev.matrixpolicy.gateway";
    private static final String CHAIN = GATEWAY + ".chain..";
    private static final String MATRIX = GATEWAY + ".matrix..";
    private static final String GLOBS = GATEWAY + ".matrix.glob";
    private static final String POLICY_LISTS = GATEWAY + ".policylist..";
    private static final String POLICY_SERVER = GATEWAY + ".policyserver..";
    private static final String STATE = GATEWAY + ".state..";
    private static final String REPLIES = GATEWAY + ".replies..";
    private static final String HASHING = GATEWAY + ".hashing..";
    private static final String FILES = GATEWAY + ".files..";
    private static final String OUTAGES = GATEWAY + ".outage..";
    private static final String VOCABULARY = GATEWAY + ".callbacks";
    private static final String CALLBACKS = GATEWAY + ".callbacks..";
    private static final String CATEGORY = GATEWAY + ".callbacks.*";
    private static final String CATALOG = GATEWAY + ".callbacks.catalog";
    private static final String EXTENSION_POINT = GATEWAY + ".module";
    private static final String MODULES = GATEWAY + ".modules..";
    private static final String DISPATCH = GATEWAY + ".dispatch..";
    private static final String DECISIONS = GATEWAY + ".decisions..";
    private static final String API = GATEWAY + ".api..";
    private static final String SERVER = GATEWAY + ".server..";
    private static final String CONFIG = GATEWAY + ".config..";
    private static final String OBSERVABILITY = GATEWAY + ".observability..";
    private static final String SPRING = "org.springframework..";

    private static JavaClasses gateway;

    @BeforeAll
    static void importProductionClasses() {
        gateway = ProductionClasses.gateway();
    }

    @Test
    void noPackageDependsOnAPackageThatDependsOnIt() {
        slices().matching(GATEWAY + ".(**)").namingSlices("$1")
                .should().beFreeOfCycles()
                .check(gateway);
    }

    @Test
    void theChainDependsOnNoOtherGatewayPackageAndNoSpring() {
        classes().that().resideInAPackage(CHAIN)
                .should(dependOnlyOnTheirOwnPackageAnd())
                .andShould().onlyDependOnClassesThat(resideOutsideOfPackage(SPRING))
                .check(gateway);
    }

    @Test
    void matrixIdsDependOnlyOnTheirGlobsAndTheHashesAndNoSpring() {
        classes().that().resideInAPackage(MATRIX)
                .should(dependOnlyOnTheirOwnPackageAnd(GLOBS, HASHING))
                .andShould().onlyDependOnClassesThat(resideOutsideOfPackage(SPRING))
                .check(gateway);
    }

    @Test
    void theReplyCapTheHashFileVersionsAndTheOutageLogDependOnNoOtherGatewayPackageAndNoSpring() {
        classes().that().resideInAnyPackage(REPLIES, HASHING, FILES, OUTAGES)
                .should(dependOnlyOnTheirOwnPackageAnd())
                .andShould().onlyDependOnClassesThat(resideOutsideOfPackage(SPRING))
                .check(gateway);
    }

    @Test
    void policyListsDependOnlyOnMatrixIdsTheReplyCapTheHashFileVersionsTheOutageLogAndNoSpring() {
        classes().that().resideInAPackage(POLICY_LISTS)
                .should(dependOnlyOnTheirOwnPackageAnd(MATRIX, REPLIES, HASHING, FILES, OUTAGES))
                .andShould().onlyDependOnClassesThat(resideOutsideOfPackage(SPRING))
                .check(gateway);
    }

    @Test
    void thePolicyServerSigningCoreDependsOnlyOnMatrixIdsTheReplyCapTheHashAndNoSpring() {
        classes().that().resideInAPackage(POLICY_SERVER)
                .should(dependOnlyOnTheirOwnPackageAnd(MATRIX, REPLIES, HASHING))
                .andShould().onlyDependOnClassesThat(resideOutsideOfPackage(SPRING))
                .check(gateway);
    }

    @Test
    void theSharedStateDependsOnlyOnTheOutageLogAndNoSpring() {
        classes().that().resideInAPackage(STATE)
                .should(dependOnlyOnTheirOwnPackageAnd(OUTAGES))
                .andShould().onlyDependOnClassesThat(resideOutsideOfPackage(SPRING))
                .check(gateway);
    }

    @Test
    void theDecisionLogDependsOnlyOnMatrixIdsAndNoSpring() {
        classes().that().resideInAPackage(DECISIONS)
                .should(dependOnlyOnTheirOwnPackageAnd(MATRIX))
                .andShould().onlyDependOnClassesThat(resideOutsideOfPackage(SPRING))
                .check(gateway);
    }

    @Test
    void onlyTheWebAndTheActuatorUseTheDecisionLog() {
        noClasses().that().resideOutsideOfPackages(DECISIONS, API, OBSERVABILITY, CONFIG)
                .should().dependOnClassesThat().resideInAPackage(DECISIONS)
                .check(gateway);
    }

    @Test
    void theCallbacksDependOnNoSpringAndOnNothingThatAnswersThem() {
        noClasses().that().resideInAPackage(CALLBACKS)
                .should().dependOnClassesThat().resideInAnyPackage(SPRING, EXTENSION_POINT, MODULES, DISPATCH,
                        DECISIONS, API, SERVER, CONFIG, OBSERVABILITY)
                .check(gateway);
    }

    @Test
    void theCallbackVocabularyDependsOnNoneOfItsSubPackages() {
        noClasses().that().resideInAPackage(VOCABULARY)
                .should().dependOnClassesThat(resideInAPackage(CALLBACKS).and(not(resideInAPackage(VOCABULARY))))
                .check(gateway);
    }

    @Test
    void aCallbackCategoryDependsOnlyOnTheVocabularyTheChainAndMatrixIds() {
        classes().that(resideInAPackage(CATEGORY).and(not(resideInAPackage(CATALOG))))
                .should(dependOnlyOnTheirOwnPackageAnd(VOCABULARY, CHAIN, MATRIX))
                .check(gateway);
    }

    /**
     * The extension point holds what modules share: the backend call, and {@code UserListFile}, a
     * watched file of user IDs, which logs its failed reads and its recovery through {@code outage}, as
     * every reader of a file or URL does.
     */
    @Test
    void theExtensionPointDependsOnlyOnTheCallbacksTheChainMatrixIdsTheReplyCapTheHashFileVersionsAndTheOutageLog() {
        classes().that().resideInAPackage(EXTENSION_POINT)
                .should(dependOnlyOnTheirOwnPackageAnd(CALLBACKS, CHAIN, MATRIX, REPLIES, HASHING, FILES, OUTAGES))
                .check(gateway);
    }

    @Test
    void aModuleTouchesOnlyTheExtensionPointTheCallbacksAndThePureCores() {
        classes().that().resideInAPackage(MODULES)
                .should(dependOnlyOnTheirOwnPackageAnd(EXTENSION_POINT, CALLBACKS, CHAIN, MATRIX, POLICY_LISTS, STATE, HASHING,
                        FILES, OUTAGES))
                .check(gateway);
    }

    @Test
    void aModuleDependsOnNoOtherModule() {
        slices().matching(GATEWAY + ".modules.(*)..").namingSlices("modules.$1")
                .should().notDependOnEachOther()
                .check(gateway);
    }

    @Test
    void webCodeLivesOnlyInTheWebPackages() {
        noClasses().that().resideOutsideOfPackages(API, SERVER)
                .should().beMetaAnnotatedWith(Controller.class)
                .orShould().beMetaAnnotatedWith(ControllerAdvice.class)
                .orShould().dependOnClassesThat().resideInAnyPackage("jakarta.servlet..", "org.springframework.web.bind..",
                        "org.springframework.web.servlet..", "org.apache.catalina..", "org.apache.coyote..")
                .check(gateway);
    }

    /**
     * Classes that use, of the gateway, only their own package and the given ones (ArchUnit package
     * identifiers); anything outside the gateway is left to the other rules.
     */
    private static ArchCondition<JavaClass> dependOnlyOnTheirOwnPackageAnd(String... allowed) {
        DescribedPredicate<JavaClass> allowedPackages = resideInAnyPackage(allowed);
        return new ArchCondition<>("depend, of the gateway, only on their own package"
                + (allowed.length == 0 ? "" : " and on " + String.join(", ", allowed))) {
            @Override
            public void check(JavaClass origin, ConditionEvents events) {
                for (Dependency dependency : origin.getDirectDependenciesFromSelf()) {
                    JavaClass target = dependency.getTargetClass().getBaseComponentType();
                    boolean fine = !target.getPackageName().startsWith(GATEWAY + ".")
                            || target.getPackageName().equals(origin.getPackageName())
                            || allowedPackages.test(target);
                    if (!fine) {
                        events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
                    }
                }
            }
        };
    }
}
