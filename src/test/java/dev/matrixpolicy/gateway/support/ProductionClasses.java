package dev.matrixpolicy.gateway.support;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.lang.ref.SoftReference;

/**
 * The gateway's production classes as ArchUnit reads them, for every rule test of the run: read once
 * (about 3 s each time on a build machine), not by each test class again, since they do not change
 * while the tests run. Held softly: a heap the test contexts need takes them back, and the next rule
 * test reads them again.
 */
public final class ProductionClasses {
    private static SoftReference<JavaClasses> read = new SoftReference<>(null);

    private ProductionClasses() {
    }

    /** Every class of {@code dev.matrixpolicy.gateway} and its packages, without the tests'. */
    public static synchronized JavaClasses gateway() {
        JavaClasses classes = read.get();
        if (classes == null) {
            classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                    .importPackages("dev.matrixpolicy.gateway");
            read = new SoftReference<>(classes);
        }
        return classes;
    }
}
