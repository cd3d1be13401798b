package dev.matrixpolicy.gateway.modules.passwordfile;

/** Test hashes at the lowest cost, so the suite stays fast. Never use such costs in production. */
final class Hashes {
    /** What a gateway with a 1 GiB heap accepts: argon2id up to m=524288. */
    static final PasswordHash.Limits LIMITS = PasswordHash.Limits.of(1L << 30);

    /** bcrypt, cost 4, of "wonderland". */
    static final String WONDERLAND_BCRYPT = "$2a$04$bVxgsC1beU3YqMsPWx.bJOU8Rlm9r1n4y6Lbn3Ah2yK/hrdLBxOMW";
    /** bcrypt, cost 4, of "builder". */
    static final String BUILDER_BCRYPT = "$2a$04$fSAC5twKFiOHgNqq5ClB7uvFBddsC9UCQRzCSdHq/MlPBkzRzj156";
    /** argon2id, m=64 KiB, t=1, p=1, of "builder". */
    static final String BUILDER_ARGON2 = "$argon2id$v=19$m=64,t=1,p=1$afwAmKZv+KFXb/bvTv0SSw$cdWYd3WN3X5oXYXRvvHP3JUid9DZTMlEbUqaMp1tGzA";
    /** argon2id, m=64 KiB, t=1, p=1, of "wonderland". */
    static final String WONDERLAND_ARGON2 = "$argon2id$v=19$m=64,t=1,p=1$mCLF/37yx2D2znxgbl4oow$yJpHH31AZ0z6E/1+OOk0rQQ6TlNB0BCGfi44vzYvTfU";

    private Hashes() {
    }
}
