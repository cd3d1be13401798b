package dev.matrixpolicy.gateway.modules.contentrules;

import dev.matrixpolicy.gateway.state.SharedState;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Configuration of the {@code content_rules} module: declarative rules on what users write and upload.
 * See {@code docs/modules/content-rules.md}.
 *
 * @param rules              the rules, in order: the first that matches refuses
 * @param callbacks          the callbacks the module may take part in; it joins those its rules apply to
 * @param maxScannedLength   how many characters of a subject's text are scanned (normalised, matched
 *                           by keywords, regexes, links and mentions), shared by its parts; the rest is
 *                           not looked at
 * @param normalisation      what normalisation folds
 */
public record ContentRulesConfig(
        @NotEmpty List<@Valid @NotNull Rule> rules,
        @DefaultValue({"check_event_for_spam", "user_may_send_state_event", "check_username_for_spam",
                "check_registration_for_spam", "check_media_file_for_spam"}) List<@NotBlank String> callbacks,
        @DefaultValue("16384") @Min(256) @Max(1_048_576) int maxScannedLength,
        @Valid Normalisation normalisation) {

    public ContentRulesConfig {
        normalisation = normalisation == null ? new Normalisation(true, true, false) : normalisation;
    }

    /**
     * @param foldConfusables Cyrillic, Greek and other letters that look Latin become the Latin letter
     *                        (styled Latin alphabets, such as small capitals, are folded either way)
     * @param foldDiacritics  accents and other nonspacing marks are dropped (marks that show nothing,
     *                        and enclosing marks, are dropped either way)
     * @param foldLeet        the digits 0 1 3 4 5 7 8 9 become o i e a s t b g
     */
    public record Normalisation(@DefaultValue("true") boolean foldConfusables, @DefaultValue("true") boolean foldDiacritics,
                                @DefaultValue("false") boolean foldLeet) {
    }

    /**
     * One rule: any of its checks that matches refuses, with the rule's errcode and message.
     *
     * @param name      the rule's name in logs and in the {@code rule} tag of the matches counter; unique
     * @param errcode   the Matrix error code of a refusal
     * @param error     the message sent with a refusal
     * @param exempt    users and servers the rule never applies to
     * @param keywords  whole words or word sequences, matched in the normalised text
     * @param phrases   strings matched anywhere in the normalised text, inside words too
     * @param regexes   RE2 regular expressions, matched ignoring case against the normalised text
     * @param mentions  limits on whom a message mentions
     * @param links     rules on the links of a text
     * @param maxLength the most characters (code points) a message's longest text (its body, a poll's fallback...) or a room name or topic may have
     * @param repeated  refuses the same text from one sender in too many rooms
     * @param media     rules on uploaded and fetched media files
     */
    public record Rule(
            @NotBlank String name,
            @DefaultValue("M_FORBIDDEN") String errcode,
            String error,
            @Valid Exempt exempt,
            List<@NotBlank String> keywords,
            List<@NotBlank String> phrases,
            List<@NotBlank String> regexes,
            @Valid Mentions mentions,
            @Valid Links links,
            @Positive Integer maxLength,
            @Valid Repeated repeated,
            @Valid Media media) {
        public Rule {
            exempt = exempt == null ? new Exempt(List.of(), List.of()) : exempt;
            keywords = keywords == null ? List.of() : keywords;
            phrases = phrases == null ? List.of() : phrases;
            regexes = regexes == null ? List.of() : regexes;
        }
    }

    /**
     * @param users   user IDs and globs ({@code @bot-*:example.com})
     * @param servers server names: all their users are exempt
     */
    public record Exempt(List<@NotBlank String> users, List<@NotBlank String> servers) {
        public Exempt {
            users = users == null ? List.of() : users;
            servers = servers == null ? List.of() : servers;
        }
    }

    /**
     * @param maxUsers the most distinct users one message may mention
     * @param room     whether a message may mention the whole room ({@code @room})
     */
    public record Mentions(@PositiveOrZero Integer maxUsers, @DefaultValue("true") boolean room) {
    }

    /**
     * @param allowedDomains when set, links may point only there (subdomains included)
     * @param deniedDomains  links may not point there (subdomains included)
     * @param maxCount       the most distinct links one text may carry
     */
    public record Links(List<@NotBlank String> allowedDomains, List<@NotBlank String> deniedDomains,
                        @PositiveOrZero Integer maxCount) {
        public Links {
            allowedDomains = allowedDomains == null ? List.of() : allowedDomains;
            deniedDomains = deniedDomains == null ? List.of() : deniedDomains;
        }
    }

    /**
     * @param maxRooms  how many rooms one sender may send the same text to within the window; below
     *                  {@link SharedState#MAX_MEMBERS}, the most rooms a count keeps, which it never exceeds
     * @param window    how far back sightings count
     * @param minLength the fewest characters (code points) of a body that is counted: short replies
     *                  ("ok", "thanks") are sent to many rooms by anyone
     */
    public record Repeated(@DefaultValue("3") @Positive @Max(value = SharedState.MAX_MEMBERS - 1,
                                   message = "must be at most 9999: a count keeps 10,000 rooms at most, so a higher limit is never passed")
                           int maxRooms,
                           @DefaultValue("10m") @DurationMin(seconds = 1, message = "must be at least 1s")
                           @DurationMax(days = 366, message = "must be at most 366 days") Duration window,
                           @DefaultValue("20") @Positive int minLength) {
    }

    /**
     * @param hashesFile     a file of SHA-256 hashes of refused files, read again when it changes
     * @param hashesUrl      a URL serving such a list, read again every {@code reload-interval}
     * @param reloadInterval how often the file or URL is looked at again
     * @param timeout        how long one request to the URL may take
     * @param allowedTypes   when set, only these media types may be stored ({@code image/png}, {@code image/*})
     */
    public record Media(Path hashesFile, String hashesUrl,
                        @DefaultValue("60s") @DurationMin(seconds = 1, message = "must be at least 1s") Duration reloadInterval,
                        @DefaultValue("10s") @DurationMin(millis = 1, message = "must be positive") Duration timeout,
                        List<@NotBlank String> allowedTypes) {
        public Media {
            allowedTypes = allowedTypes == null ? List.of() : allowedTypes;
        }
    }
}
