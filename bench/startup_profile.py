#!/usr/bin/env python3
"""Where a start's CPU samples went: reads `jfr print --events jdk.ExecutionSample` output and
prints, per activity, the share of samples whose stack passes through it (a sample counts once per
activity, so shares overlap: class loading inside bean creation counts for both), then the top
frames. Used by bench/startup.sh JFR=<way>."""
import collections
import re
import sys

# activity: frame prefixes (a frame matches when it starts with one of them)
ACTIVITIES = {
    "class loading and linking": ("java.lang.ClassLoader.", "jdk.internal.loader.", "org.springframework.boot.loader.",
                                  "java.net.URLClassLoader.", "java.lang.Class.forName"),
    "configuration class processing": ("org.springframework.context.annotation.ConfigurationClass",),
    "auto-configuration conditions": ("org.springframework.boot.autoconfigure.condition.",),
    "bean creation": ("org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.createBean",),
    "configuration binding": ("org.springframework.boot.context.properties.bind.",),
    "YAML reading": ("org.yaml.snakeyaml.", "tools.jackson.dataformat.yaml.", "com.fasterxml.jackson.dataformat.yaml."),
    "Tomcat": ("org.apache.catalina.", "org.apache.coyote.", "org.apache.tomcat."),
    "actuator": ("org.springframework.boot.actuate.",),
    "Micrometer": ("io.micrometer.",),
    "logging": ("ch.qos.logback.", "org.apache.logging."),
    "the gateway's own code": ("dev.matrixpolicy.",),
    "annotation and reflection metadata": ("org.springframework.core.annotation.", "org.springframework.core.type.",
                                           "java.lang.Class.getDeclared", "java.lang.Class.getMethods",
                                           "java.lang.Class.getConstructors"),
}

ENTRY_POINT = {"dev.matrixpolicy.gateway.PolicyGatewayApplication.main"}

def samples(lines):
    thread, frames, in_stack = None, [], False
    for line in lines:
        line = line.strip()
        if line.startswith("jdk.ExecutionSample"):
            thread, frames, in_stack = None, [], False
        elif line.startswith("sampledThread"):
            m = re.search(r'"(.*)"', line)
            thread = m.group(1) if m else "?"
        elif line.startswith("stackTrace = ["):
            in_stack = True
        elif in_stack and line == "]":
            in_stack = False
            yield thread, frames
        elif in_stack and line and line != "...":
            frame = line.split("(")[0]
            if frame not in ENTRY_POINT:   # the launcher's frames, under every sample of the main thread
                frames.append(frame)

def main(path):
    with open(path) as f:
        all_samples = list(samples(f))
    total = len(all_samples)
    threads = collections.Counter(t.split("-")[0] for t, _ in all_samples)
    counts, top, own = collections.Counter(), collections.Counter(), collections.Counter()
    for _, frames in all_samples:
        for activity, prefixes in ACTIVITIES.items():
            if any(frame.startswith(prefixes) for frame in frames):
                counts[activity] += 1
        if frames:
            top[frames[0]] += 1
        innermost_own = next((f for f in frames if f.startswith("dev.matrixpolicy.")), None)
        if innermost_own:
            own[innermost_own] += 1
    print(f"{total} execution samples; threads: " + ", ".join(f"{t} {n}" for t, n in threads.most_common(5)))
    print()
    print("| activity (inclusive, overlapping) | share of samples |")
    print("|---|---|")
    for activity, n in counts.most_common():
        print(f"| {activity} | {100 * n / total:.0f}% |")
    print()
    print("Top frames (self):")
    for frame, n in top.most_common(12):
        print(f"  {100 * n / total:4.1f}%  {frame}")
    print()
    print("The gateway's own code, by its innermost frame (inclusive of what it calls):")
    for frame, n in own.most_common(12):
        print(f"  {100 * n / total:4.1f}%  {frame}")

if __name__ == "__main__":
    main(sys.argv[1])
