package dev.matrixpolicy.gateway.deploy;

import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Fields of rendered objects that Kubernetes does not know. fabric8's models keep such fields in
 * {@code additionalProperties} instead of failing, so a misspelt key in a template (say
 * {@code readinesProbe}) would pass every typed assertion and be dropped by the API server; this
 * walk finds it. Kinds without a model (ServiceMonitor) are not checked.
 */
final class UnknownFields {
    private static final String MODEL_PACKAGE = "io.fabric8.kubernetes.api.model";

    private UnknownFields() {
    }

    /** Every unknown field, as "Kind/name: path.field". */
    static List<String> in(Manifests manifests) {
        List<String> unknown = new ArrayList<>();
        for (HasMetadata object : manifests.objects()) {
            if (!(object instanceof GenericKubernetesResource)) {
                walk(object, object.getKind() + "/" + object.getMetadata().getName() + ":", unknown);
            }
        }
        return unknown;
    }

    private static void walk(Object value, String path, List<String> unknown) {
        switch (value) {
            case null -> {
            }
            case List<?> list -> {
                for (int i = 0; i < list.size(); i++) {
                    walk(list.get(i), path + "[" + i + "]", unknown);
                }
            }
            case Map<?, ?> map -> map.forEach((key, entry) -> walk(entry, path + "[" + key + "]", unknown));
            default -> {
                if (value.getClass().getPackageName().startsWith(MODEL_PACKAGE)) {
                    walkModel(value, path, unknown);
                }
            }
        }
    }

    private static void walkModel(Object model, String path, List<String> unknown) {
        for (Method getter : model.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            Object field = invoke(getter, model);
            if (getter.getName().equals("getAdditionalProperties")) {
                ((Map<?, ?>) field).keySet().forEach(key -> unknown.add(path + "." + key));
            } else {
                walk(field, path + "." + decapitalize(getter.getName().substring(3)), unknown);
            }
        }
    }

    private static Object invoke(Method getter, Object model) {
        try {
            return getter.invoke(model);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + getter, e);
        }
    }

    private static String decapitalize(String name) {
        return name.isEmpty() ? name : Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }
}
