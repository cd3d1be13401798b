package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One Markdown file of the repository, read as far as the documentation tests need it: its
 * headings (with the anchors GitHub gives them), its links, and its fenced code blocks, each with
 * the line it starts at so a failure can name it.
 *
 * @param file     the file, relative to the repository root
 * @param headings the anchors of its headings, in order, duplicates numbered as GitHub numbers them
 * @param links    every link target outside code, in order
 * @param blocks   every fenced code block, in order
 */
public record Markdown(Path file, List<String> headings, List<Link> links, List<Block> blocks) {
    /** The repository root: Maven runs the tests there. */
    public static final Path ROOT = Path.of("").toAbsolutePath();

    /**
     * Directories whose Markdown is not the project's own documentation, besides hidden ones
     * ({@code .git}, {@code .mvn}, tools' caches such as {@code .pytest_cache}).
     */
    private static final Set<String> NOT_DOCUMENTATION = Set.of("target", "node_modules");

    private static final Pattern FENCE = Pattern.compile("^( *)(```+|~~~+)\\s*([\\w-]*).*$");
    private static final Pattern HEADING = Pattern.compile("^ {0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern CODE_SPAN = Pattern.compile("(`+)(?:(?!\\1).)+?\\1");
    private static final Pattern INLINE_LINK = Pattern.compile("\\]\\(\\s*<?([^)\\s>]+)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    private static final Pattern REFERENCE_DEFINITION = Pattern.compile("^ {0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s.*)?$");
    private static final Pattern HTML_TARGET = Pattern.compile("(?:href|src)=\"([^\"]+)\"");

    /** A link target, as written, and the line it is on. */
    public record Link(String target, int line) {
    }

    /**
     * A fenced code block.
     *
     * @param language  the info string's first word, {@code yaml} say; empty when there is none
     * @param fenceLine the line of the opening fence (1-based)
     * @param lines     the content, without the fence's own indentation
     */
    public record Block(String language, int fenceLine, List<String> lines) {
        /** The line of the block's first content line (1-based). */
        public int firstLine() {
            return fenceLine + 1;
        }

        public String text() {
            return String.join("\n", lines) + "\n";
        }
    }

    /** Every Markdown file of the repository, the project's own only (no build output). */
    public static List<Markdown> repository() {
        try (Stream<Path> files = Files.walk(ROOT)) {
            return files.filter(file -> file.toString().endsWith(".md"))
                    .filter(file -> ROOT.relativize(file).getNameCount() == 1
                            || Stream.iterate(ROOT.relativize(file).getParent(), dir -> dir != null, Path::getParent)
                            .map(dir -> dir.getFileName().toString())
                            .noneMatch(dir -> dir.startsWith(".") || NOT_DOCUMENTATION.contains(dir)))
                    .sorted()
                    .map(file -> read(ROOT.relativize(file)))
                    .toList();
        } catch (IOException unreadable) {
            throw new UncheckedIOException(unreadable);
        }
    }

    /** Reads one file, {@code file} relative to the repository root. */
    public static Markdown read(Path file) {
        List<String> text;
        try {
            text = Files.readAllLines(ROOT.resolve(file));
        } catch (IOException unreadable) {
            throw new UncheckedIOException(unreadable);
        }
        List<String> headings = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        List<Link> links = new ArrayList<>();
        List<Block> blocks = new ArrayList<>();
        for (int index = 0; index < text.size(); index++) {
            Matcher fence = FENCE.matcher(text.get(index));
            if (fence.matches()) {
                int indent = fence.group(1).length();
                String marker = fence.group(2);
                List<String> content = new ArrayList<>();
                int open = index;
                for (index++; index < text.size() && !text.get(index).strip().startsWith(marker); index++) {
                    String line = text.get(index);
                    content.add(line.substring(Math.min(indent, line.length() - line.stripLeading().length())));
                }
                blocks.add(new Block(fence.group(3).toLowerCase(Locale.ROOT), open + 1, List.copyOf(content)));
                continue;
            }
            String line = text.get(index);
            Matcher heading = HEADING.matcher(line);
            if (heading.matches()) {
                String slug = slug(heading.group(2));
                int count = seen.merge(slug, 1, Integer::sum);
                headings.add(count == 1 ? slug : slug + "-" + (count - 1));
            }
            String outsideCode = CODE_SPAN.matcher(line).replaceAll("");
            for (Pattern pattern : List.of(INLINE_LINK, REFERENCE_DEFINITION, HTML_TARGET)) {
                Matcher link = pattern.matcher(outsideCode);
                while (link.find()) {
                    links.add(new Link(link.group(1), index + 1));
                }
            }
        }
        return new Markdown(file, List.copyOf(headings), List.copyOf(links), List.copyOf(blocks));
    }

    /**
     * The anchor GitHub gives a heading: the text as rendered (link targets, code marks and emphasis
     * gone), lower case, every character but letters, digits, {@code _}, {@code -} and spaces
     * dropped, and spaces turned into hyphens.
     */
    public static String slug(String heading) {
        String rendered = heading.replaceAll("!?\\[([^\\]]*)\\]\\([^)]*\\)", "$1").replaceAll("<[^>]+>", "");
        return rendered.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{Nd}\\p{M}_\\- ]", "").replace(' ', '-');
    }

    /** The blocks under the heading whose anchor is {@code anchor}, up to the next heading of its level or above. */
    public List<Block> section(String anchor) {
        List<String> text;
        try {
            text = Files.readAllLines(ROOT.resolve(file));
        } catch (IOException unreadable) {
            throw new UncheckedIOException(unreadable);
        }
        int start = -1;
        int level = 0;
        int end = text.size();
        boolean inBlock = false;
        for (int index = 0; index < text.size(); index++) {
            if (FENCE.matcher(text.get(index)).matches()) {
                inBlock = !inBlock;
                continue;
            }
            Matcher heading = HEADING.matcher(text.get(index));
            if (inBlock || !heading.matches()) {
                continue;
            }
            if (start < 0 && slug(heading.group(2)).equals(anchor)) {
                start = index;
                level = heading.group(1).length();
            } else if (start >= 0 && heading.group(1).length() <= level) {
                end = index;
                break;
            }
        }
        int from = start;
        int to = end;
        return start < 0 ? List.of() : blocks.stream().filter(block -> block.fenceLine() > from && block.fenceLine() <= to).toList();
    }

    /** Where a failure points: the file and line, as editors and the forge link them. */
    public String at(int line) {
        return file + ":" + line;
    }

    /** The target's anchor, if it has one. */
    public static Optional<String> anchor(String target) {
        int hash = target.indexOf('#');
        return hash < 0 ? Optional.empty() : Optional.of(target.substring(hash + 1));
    }
}
