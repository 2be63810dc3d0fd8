import Foundation

/// What `history` and `logs` show: promotions and their steps as the state store recorded them, with
/// the tail of each step's log, redacted again on the way out (a secret granted after the run included).
public enum PromotionHistoryReport {
    /// A promotion as `history` shows it.
    public struct Entry: Sendable, Codable, Hashable {
        public let id: Int64
        public let pipeline: String
        public let stage: String
        public let candidate: String
        public let previous: String?
        public let status: String
        public let startedAt: String
        public let endedAt: String?
        public let durationMs: Int64?
        public let reason: String?
    }

    /// A step run as `logs` shows it.
    public struct Step: Sendable, Codable, Hashable {
        public let phase: String
        public let name: String
        public let attempt: Int
        public let exitStatus: Int32?
        public let durationMs: Int64
        public let result: String
        public let outputSHA256: String?
        public let log: String?
        /// The log's last lines (fewer when it is shorter; none when it was pruned).
        public let tail: [String]
    }

    /// The promotions of `pipeline` (and `stage`, when given), newest first, at most `limit`.
    public static func entries(
        _ store: any StateReader, pipeline: String, stage: String?, limit: Int
    ) throws -> [Entry] {
        try store.promotions().reversed()
            .filter { $0.key.pipeline == pipeline && (stage == nil || $0.key.stage == stage) }
            .prefix(limit).map(entry)
    }

    static func entry(_ promotion: PromotionRecord) -> Entry {
        Entry(
            id: promotion.id, pipeline: promotion.key.pipeline, stage: promotion.key.stage, candidate: promotion.candidate,
            previous: promotion.previous, status: promotion.status.rawValue, startedAt: AuditTime.format(promotion.startedAt),
            endedAt: promotion.endedAt.map(AuditTime.format),
            durationMs: promotion.endedAt.map { Int64(($0.timeIntervalSince(promotion.startedAt) * 1000).rounded()) },
            reason: promotion.reason)
    }

    /// The promotion `id` (or the newest of `pipeline`/`stage`) and its steps with their logs' last `lines`.
    public static func steps(
        _ store: any StateReader, promotion id: Int64, lines: Int, redactor: SecretRedactor
    ) throws -> (Entry, [Step])? {
        guard let promotion = try store.promotions().first(where: { $0.id == id }) else { return nil }
        let steps = try store.stepRuns(promotion: id).map { run in
            Step(
                phase: run.phase, name: run.name, attempt: run.attempt, exitStatus: run.exitStatus,
                durationMs: run.durationMs, result: run.result, outputSHA256: run.outputSHA256, log: run.logPath,
                tail: tail(of: run.logPath, lines: lines, redactor: redactor))
        }
        return (entry(promotion), steps)
    }

    private static func tail(of path: String?, lines: Int, redactor: SecretRedactor) -> [String] {
        guard let path, lines > 0, let data = FileManager.default.contents(atPath: path) else { return [] }
        var all = redactor.redact(String(decoding: data, as: UTF8.self)).split(separator: "\n", omittingEmptySubsequences: false)
        while all.last?.isEmpty == true { all.removeLast() }
        return all.suffix(lines).map(String.init)
    }
}
