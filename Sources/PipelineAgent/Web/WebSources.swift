import Foundation
import Reconciler
import SpecModel

/// What the pages read: the state store, the audit chain, the mirror's commits. Read-only, like `status`
/// and `audit log`, which read the same places.
struct WebSources: Sendable {
    let store: any StateReader
    let config: AgentConfig
    let commits: CommitLookup
    /// Step logs are redacted again on the way out (a secret granted after the run included).
    let redactor: SecretRedactor
    let chain: ChainStatus

    init(store: any StateReader, config: AgentConfig) {
        self.store = store
        self.config = config
        commits = CommitLookup(mirrorPath: "\(config.stateDirectory)/mirror.git")
        redactor = StepEnvironment(config: config).redactor
        chain = ChainStatus(store: store, config: config)
    }

    /// The audit records matching `filter`, oldest first, from whichever store keeps the chain.
    func auditRecords(_ filter: AuditFilter = AuditFilter()) throws -> [AuditRecord] {
        if let shared = store as? PostgresStateStore { return try shared.chainRecords(matching: filter) }
        return try AuditReader.records(at: "\(config.stateDirectory)/\(AuditLog.fileName)", matching: filter)
    }
}

/// The chain's verification as the audit page reports it.
struct ChainReport: Sendable {
    let intact: Bool
    let records: Int64
    let head: AuditAnchor?
    /// Where and how it is broken, when it is.
    let problem: String?
    /// Records written after the anchor was read (an agent appending meanwhile), not damage.
    let newerThanAnchor: Int64
    let checkedAt: Date
}

/// Verifies the chain for the page, at most once per growth of the log and every 10 s: a page reload
/// must not rehash a million records.
final class ChainStatus: @unchecked Sendable {
    private let store: any StateReader
    private let config: AgentConfig
    private let lock = NSLock()
    private var last: (report: ChainReport, size: Int64)?

    init(store: any StateReader, config: AgentConfig) {
        self.store = store
        self.config = config
    }

    func report(now: Date = Date()) -> ChainReport {
        lock.withLock {
            let size = currentSize()
            if let last, last.size == size || now.timeIntervalSince(last.report.checkedAt) < 10 { return last.report }
            let report = verify(now: now)
            last = (report, size)
            return report
        }
    }

    private var logPath: String { "\(config.stateDirectory)/\(AuditLog.fileName)" }

    /// The file's size, or for PostgreSQL the anchor's seq: what changes when the chain grows.
    private func currentSize() -> Int64 {
        if store is PostgresStateStore { return (try? store.auditAnchor()?.seq) ?? -1 }
        return (try? FileManager.default.attributesOfItem(atPath: logPath)[.size] as? NSNumber)?.int64Value ?? -1
    }

    private func verify(now: Date) -> ChainReport {
        do {
            if let shared = store as? PostgresStateStore { return Self.report(try shared.verifyChain(), now: now) }
            // The anchor first, as `audit verify` does: records appended after it are new, not damage.
            let anchor = try store.auditAnchor()
            return Self.report(try AuditVerifier.verify(fileAt: logPath, anchor: anchor), now: now)
        } catch {
            return ChainReport(
                intact: false, records: 0, head: nil, problem: "could not be verified: \(error)", newerThanAnchor: 0,
                checkedAt: now)
        }
    }

    static func report(_ result: AuditVerification, now: Date) -> ChainReport {
        if let problem = result.problem, problem.kind == .anchorBehind || problem.kind == .noAnchor {
            return ChainReport(
                intact: true, records: result.count, head: result.head, problem: nil,
                newerThanAnchor: result.count - problem.seq + 1, checkedAt: now)
        }
        return ChainReport(
            intact: result.isIntact, records: result.count, head: result.head,
            problem: result.problem.map { "broken at seq \($0.seq): \($0.kind.rawValue): \($0.message)" },
            newerThanAnchor: 0, checkedAt: now)
    }
}
