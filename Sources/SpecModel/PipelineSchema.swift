/// The schemas of the two document kinds the agent reads from a watched repository.
public enum SpecSchema {
    /// The only API version this build understands.
    public static let apiVersion = "pipeline-agent/v1"

    static let name = SchemaType.string(
        .pattern(
            TextPattern(
                "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
                expectation: "a name of lowercase letters, digits and '-' (at most 63)")))
    static let duration = SchemaType.string(
        .pattern(TextPattern("^([0-9]+(ms|s|m|h|d))+$", expectation: "a duration such as 90s, 15m, 2h or 1h30m")))
    static let threshold = SchemaType.string(
        .pattern(TextPattern("^>=?[0-9]+$", expectation: "a threshold such as \">10\" or \">=1\" (quoted)")))
    static let clockTime = SchemaType.string(
        .pattern(TextPattern("^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", expectation: "a time of day \"HH:MM\" (quoted)")))
    static let principal = SchemaType.string(
        .pattern(TextPattern("^[^@\\s]+@[^@\\s]+$", expectation: "an e-mail address naming a key in allowed_signers")))
    static let commitID = SchemaType.string(
        .pattern(TextPattern("^[0-9a-f]{40}$", expectation: "a full 40-character lowercase commit id")))
    static let envName = TextPattern("^[A-Za-z_][A-Za-z0-9_]*$", expectation: "an environment variable name")
    static let timestamp = SchemaType.string(
        .pattern(
            TextPattern(
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$",
                expectation: "an RFC 3339 time such as 2026-12-01T00:00:00Z")))
    static let text = SchemaType.string(.nonEmpty)
    static let httpURL = SchemaType.string(
        .pattern(TextPattern("^https?://[^\\s]+$", expectation: "an http:// or https:// URL")))
    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    static let step = SchemaType.object(
        ObjectSchema(
            "step",
            [
                Property("name", name, required: true, "Name of the step, unique within its list"),
                Property("run", text, required: true, "Shell command, run with /bin/sh -c"),
                Property("workdir", text, "Working directory relative to the candidate checkout"),
                Property("timeout", duration, "Kill the step's process group after this long (default 30m)"),
                Property("retries", .integer(minimum: 0), "Extra attempts after a failure, with backoff (default 0)"),
            ]))

    static let check = SchemaType.object(
        ObjectSchema(
            "check",
            [
                Property("name", name, required: true, "Name of the check, unique within its list"),
                Property("run", text, "Shell command; its exit status, or the number it prints, is the result"),
                Property("dbtResults", text, "Path of a dbt run_results.json, relative to the checkout"),
                Property("http", httpURL, "URL to request; the status and latency are the result"),
                Property("workdir", text, "Working directory of a run check, relative to the checkout"),
                Property("timeout", duration, "Give up on the check after this long"),
                Property("warnIf", threshold, "Warning when the measured number matches, e.g. \">10\""),
                Property("errorIf", threshold, "Failure when the measured number matches, e.g. \">100\""),
                Property("expectStatus", .integer(minimum: 100), "HTTP status an http check expects (default 200)"),
                Property("maxLatency", duration, "Warning when an http check is slower than this"),
            ]))

    static let approvals = SchemaType.object(
        ObjectSchema(
            "approvals",
            [
                Property("required", .integer(minimum: 0), required: true, "How many distinct approvers must sign"),
                Property(
                    "approvers", .array(of: principal, minItems: 1), required: true,
                    "Principals (allowed_signers e-mails) who may approve"),
                Property("allowSelfApproval", .boolean, "Let an author of the promoted commits approve (default false)"),
            ]))

    static let window = SchemaType.object(
        ObjectSchema(
            "window",
            [
                Property(
                    "days", .array(of: .string(.oneOf(weekdays)), minItems: 1), required: true,
                    "Days on which the window opens"),
                Property("from", clockTime, required: true, "Opening time, \"HH:MM\""),
                Property("to", clockTime, required: true, "Closing time, \"HH:MM\"; before `from` spans midnight"),
                Property("timezone", text, "IANA time zone such as America/Sao_Paulo (default UTC)"),
            ]))

    static let health = SchemaType.object(
        ObjectSchema(
            "health",
            [
                Property("interval", duration, required: true, "How often the checks run"),
                Property("checks", .array(of: check, minItems: 1), required: true, "Checks; the worst result wins"),
            ]))

    static let observe = SchemaType.object(
        ObjectSchema(
            "observe",
            [
                Property("run", text, required: true, "Command that prints the deployed candidate id"),
                Property("workdir", text, "Working directory relative to the checkout"),
                Property("timeout", duration, "Give up after this long"),
                Property("selfHeal", .boolean, "Promote again when drift is seen (default false)"),
            ]))

    static let checkout = SchemaType.object(
        ObjectSchema(
            "checkout",
            [
                Property(
                    "paths", .array(of: text, minItems: 1), required: true,
                    "Globs of the files to check out; the others are left out")
            ]))

    static let stage = SchemaType.object(
        ObjectSchema(
            "stage",
            [
                Property("name", name, required: true, "Environment name, unique in the pipeline"),
                Property("from", name, "Upstream stage whose verified candidates this stage takes"),
                Property("promotion", .string(.oneOf(["auto", "manual"])), "auto or manual (default auto)"),
                Property("vars", .map(of: .scalar, keyPattern: envName), "Environment variables for steps and checks"),
                Property("soak", duration, "How long a candidate must have been verified upstream"),
                Property("timeout", duration, "Fail and roll back a promotion that runs longer than this"),
                Property("approvals", approvals, "Signed approvals needed before promotion"),
                Property("windows", .array(of: window, minItems: 1), "When promotions may start"),
                Property("freeze", .boolean, "When true, nothing new is promoted to this stage"),
                Property("steps", .array(of: step, minItems: 1), required: true, "Promotion steps, in order"),
                Property("verify", .array(of: check, minItems: 0), "Checks after the steps; failure rolls back"),
                Property("rollback", .array(of: step, minItems: 0), "Steps that restore the previous candidate"),
                Property("health", health, "Periodic monitoring of the deployed candidate"),
                Property("notify", .array(of: text, minItems: 0), "Notification channels from the agent config"),
                Property("observe", observe, "How to read what is really deployed (drift detection)"),
                Property("pin", commitID, "Deploy exactly this commit, whatever is newer"),
                Property("checkout", checkout, "Only these files of the candidate (default: the whole tree)"),
            ]))

    /// The `kind: Pipeline` document.
    public static let pipeline = SchemaType.object(
        ObjectSchema(
            "Pipeline",
            [
                Property("apiVersion", .string(.oneOf([apiVersion])), required: true, "Always \(apiVersion)"),
                Property("kind", .string(.oneOf(["Pipeline"])), required: true, "Always Pipeline"),
                Property(
                    "metadata",
                    .object(
                        ObjectSchema(
                            "metadata",
                            [
                                Property("name", name, required: true, "Pipeline name, unique in the repository"),
                                Property("description", text, "What the pipeline delivers"),
                                Property("labels", .map(of: text, keyPattern: nil), "Free-form labels"),
                            ])), required: true, "Name and labels"),
                Property(
                    "spec",
                    .object(
                        ObjectSchema(
                            "spec",
                            [
                                Property(
                                    "source",
                                    .object(
                                        ObjectSchema(
                                            "source",
                                            [
                                                Property("branch", text, required: true, "Watched branch"),
                                                Property(
                                                    "paths", .array(of: text, minItems: 0),
                                                    "Globs; only commits touching them become candidates"),
                                            ])), required: true, "Which commits are candidates"),
                                Property(
                                    "stages", .array(of: stage, minItems: 1), required: true,
                                    "Environments, each with at most one upstream"),
                            ])), required: true, "Source and stages"),
            ]))

    /// The `kind: Approval` document.
    public static let approval = SchemaType.object(
        ObjectSchema(
            "Approval",
            [
                Property("apiVersion", .string(.oneOf([apiVersion])), required: true, "Always \(apiVersion)"),
                Property("kind", .string(.oneOf(["Approval"])), required: true, "Always Approval"),
                Property("pipeline", name, required: true, "Pipeline the approval is for"),
                Property("stage", name, required: true, "Stage the approval is for"),
                Property("candidate", commitID, required: true, "Full commit id being approved"),
                Property("approver", principal, required: true, "Principal whose key signed the file"),
                Property("comment", text, "Why the approver agrees"),
                Property("expires", timestamp, "The approval no longer counts after this time"),
                Property(
                    "stageDigest",
                    .string(.pattern(TextPattern("^sha256:[0-9a-f]{64}$", expectation: "sha256: and 64 lowercase hex digits"))),
                    "Digest of the stage spec approved, from `pipeline-agent approval-digest`; required for the approval to count"
                ),
            ]))
}
