/// The schema of the agent config file.
enum ConfigSchema {
    static let text = SchemaType.string(.nonEmpty)
    static let envName = SchemaType.string(.pattern(SpecSchema.envName))

    static let channel = SchemaType.object(
        ObjectSchema(
            "notification channel",
            [
                Property("type", .string(.oneOf(["slack", "pagerduty", "webhook"])), required: true, "Channel kind"),
                Property("url", SpecSchema.httpURL, "Destination URL (not secret)"),
                Property("urlEnv", envName, "Environment variable holding a secret URL"),
                Property("routingKeyEnv", envName, "Environment variable holding a PagerDuty routing key"),
                Property("hmacSecretEnv", envName, "Environment variable holding the webhook HMAC secret"),
            ]))

    static let protectRule = SchemaType.object(
        ObjectSchema(
            "protect rule",
            [
                Property("pipeline", text, required: true, "Pipeline name glob"),
                Property("stage", text, required: true, "Stage name glob"),
                Property("promotion", .string(.oneOf(["auto", "manual"])), "Floor for the promotion mode"),
                Property("minApprovals", .integer(minimum: 0), "Floor for the approval count"),
                Property("approvers", .array(of: SpecSchema.principal, minItems: 1), "Only these principals count"),
                Property(
                    "allowSelfApproval", .boolean,
                    "Let an author of the promoted commits approve (default false; a spec cannot allow it on a protected stage)"),
            ]))

    static let config = SchemaType.object(
        ObjectSchema(
            "agent config",
            [
                Property(
                    "source",
                    .object(
                        ObjectSchema(
                            "source",
                            [
                                Property("url", text, required: true, "Watched repository: path or URL"),
                                Property("branch", text, "Default branch (pipelines name their own)"),
                                Property("pollInterval", SpecSchema.duration, "How often to poll (default 60s)"),
                                Property("tokenEnv", envName, "Environment variable with an HTTPS token"),
                                Property("sshKey", text, "Private key for ssh:// URLs"),
                            ])), required: true, "The watched repository"),
                Property(
                    "state",
                    .object(
                        ObjectSchema(
                            "state",
                            [
                                Property("path", text, required: true, "State directory"),
                                Property(
                                    "logRetention", SpecSchema.duration,
                                    "How long a finished promotion's step logs are kept (default 90d)"),
                                Property(
                                    "postgres",
                                    .object(
                                        ObjectSchema(
                                            "postgres",
                                            [
                                                Property(
                                                    "urlEnv", envName, required: true,
                                                    "Environment variable holding the libpq connection URI")
                                            ])),
                                    "Keep the state and the audit chain in PostgreSQL (any number of agents may share it)"),
                            ])),
                    required: true, "Where state, audit log and work directories live"),
                Property(
                    "trust",
                    .object(
                        ObjectSchema("trust", [Property("allowedSigners", text, required: true, "OpenSSH allowed_signers file")])),
                    "The approval trust root"),
                Property(
                    "http",
                    .object(
                        ObjectSchema(
                            "http",
                            [
                                Property("listen", text, required: true, "host:port"),
                                Property("webhookSecretEnv", envName, "Environment variable with the webhook secret"),
                                Property(
                                    "readTokenEnv", envName,
                                    "Environment variable with the token the web page, /api/v1/status and /metrics require"),
                            ])), "HTTP listener"),
                Property("notifications", .map(of: channel, keyPattern: nil), "Named notification channels"),
                Property(
                    "secrets",
                    .map(
                        of: .object(
                            ObjectSchema(
                                "secret",
                                [
                                    Property("env", envName, required: true, "Environment variable holding the value"),
                                    Property(
                                        "stages", .array(of: stageGlob, minItems: 0),
                                        "pipeline/stage pairs (globs) whose steps see it"),
                                ])), keyPattern: SpecSchema.envName), "Secrets granted per pipeline/stage"),
                Property("protect", .array(of: protectRule, minItems: 0), "Policy floor the repository cannot loosen"),
                Property("shutdownGrace", SpecSchema.duration, "How long a running step may finish after SIGTERM (default 10s)"),
                Property("execution", execution, "Where steps run: OS users and the checkout directory"),
                Property(
                    "witness",
                    .object(
                        ObjectSchema(
                            "witness",
                            [
                                Property("file", text, "Append signed checkpoints to this file (on another mount)"),
                                Property("channel", text, "Post signed checkpoints to this webhook channel"),
                                Property("interval", SpecSchema.duration, "How often while the chain grows (default 1h)"),
                            ])), "Signed checkpoints of the audit chain's head, kept out of the host's reach"),
                Property(
                    "ha",
                    .object(
                        ObjectSchema(
                            "ha",
                            [
                                Property(
                                    "leaseTimeout", SpecSchema.duration,
                                    "How long a silent agent keeps its claims before another recovers them (default 30s, at least 3s)"
                                )
                            ])), "Several agents sharing one state.postgres database"),
            ]))

    /// A `pipeline/stage` pair of globs: a bare stage name would reach any new pipeline's stage of that name.
    static let stageGlob = SchemaType.string(
        .pattern(
            TextPattern(
                "^[^/\\s]+/[^/\\s]+$",
                expectation: "a pipeline/stage pair such as olist-analytics/prod (globs allowed, e.g. */prod); "
                    + "a bare stage name would also reach any new pipeline's stage of that name")))

    static let userName = SchemaType.string(
        .pattern(TextPattern("^[a-z_][a-z0-9_-]*[$]?$", expectation: "an OS user name such as pa-step")))

    static let execution = SchemaType.object(
        ObjectSchema(
            "execution",
            [
                Property("stepUser", userName, "OS user that steps run as (the agent needs root to switch)"),
                Property(
                    "users", .map(of: userName, keyPattern: nil), "OS user per pipeline/stage glob, e.g. \"*/prod\": pa-prod"),
                Property("requireIsolation", .boolean, "Refuse to start when steps would run as the agent's own user"),
                Property("workDirectory", text, "Where checkouts are made (default <state>-work)"),
                Property(
                    "setpriv",
                    .string(
                        .pattern(
                            TextPattern("^/", expectation: "an absolute path such as /usr/local/libexec/pipeline-agent/setpriv"))),
                    "The setpriv that switches users (default /usr/bin/setpriv); a non-root agent needs a copy with "
                        + "cap_setuid,cap_setgid+ep that only its group may run"),
                Property(
                    "maxConcurrentPromotions", .integer(minimum: 1),
                    "Promotions run at once (default 4); never two of one stage, never two as one step user"),
            ]))
}
