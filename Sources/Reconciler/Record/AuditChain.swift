import Foundation
import Logging
import SpecModel

/// Where the audit chain lives, and how a record and the state change it announces become durable: the JSONL file
/// anchored in SQLite (the embedded default), or a table of the PostgreSQL store. The recorder's gate serialises
/// every call.
protocol AuditChain: AnyObject, Sendable {
    /// The last record's sequence number and hash.
    var head: AuditAnchor? { get }
    /// Why the chain refuses to record (tampering found, a failed write), or nil: then nothing may act.
    var refusal: AuditError? { get }
    /// Waits for the check of the records that opening did not verify; returns the refusal, if any.
    func awaitFullCheck() -> AuditError?
    /// Appends `events` durably and applies `changes`; the store never holds a change without its record.
    @discardableResult
    func append(_ events: [AuditEvent], then changes: [StateChange]) throws -> [AuditRecord]
    /// Appends `events` durably now; the returned work applies `changes` (decision 0019).
    func appendBeforeStore(_ events: [AuditEvent], then changes: [StateChange]) throws -> () throws -> Void
    /// Every record, in order (recovery reads what a promotion did).
    func records() throws -> [AuditRecord]
}

/// The JSONL file, fsync'd before the action it announces, anchored in the SQLite store with the state change.
final class FileAuditChain: AuditChain, @unchecked Sendable {
    private let log: AuditLog
    private let store: any StateStore

    init(
        config: AgentConfig, store: any StateStore, redactor: SecretRedactor, logger: Logger,
        clock: @escaping @Sendable () -> Date
    ) throws {
        log = try AuditLog(directory: config.stateDirectory, anchors: store, redactor: redactor, logger: logger, clock: clock)
        self.store = store
    }

    var head: AuditAnchor? { log.currentHead }
    var refusal: AuditError? { log.refusal }
    func awaitFullCheck() -> AuditError? { log.awaitFullCheck() }

    func append(_ events: [AuditEvent], then changes: [StateChange]) throws -> [AuditRecord] {
        let store = store
        return try log.append(events) { anchor in try store.commit(changes, anchor: anchor) }
    }

    func appendBeforeStore(_ events: [AuditEvent], then changes: [StateChange]) throws -> () throws -> Void {
        guard let appended = try log.appendAwaitingAnchor(events) else { return {} }
        let (log, store) = (log, store)
        return { try log.settle(appended.anchor) { anchor in try store.commit(changes, anchor: anchor) } }
    }

    func records() throws -> [AuditRecord] { try AuditReader.records(at: log.path) }
}

/// The chain as a table of the PostgreSQL store: a record and its state change are one transaction under the head's
/// row lock, so agents sharing the database append one at a time and nothing is ever half written.
final class TableAuditChain: AuditChain, @unchecked Sendable {
    private let store: PostgresStateStore
    private let redactor: SecretRedactor
    private let clock: @Sendable () -> Date
    private let tampered: AuditError?
    /// Moved by this agent's appends; the head when the database cannot be read.
    private var lastHead: AuditAnchor?
    private let headLock = NSLock()

    /// Verifies the whole chain before anything is recorded on top of it.
    init(store: PostgresStateStore, redactor: SecretRedactor, clock: @escaping @Sendable () -> Date) throws {
        self.store = store
        self.redactor = redactor
        self.clock = clock
        let verification = try store.verifyChain()
        tampered = verification.problem.map { .tampered(path: "the audit_records table", problem: $0) }
        lastHead = verification.head
    }

    /// The table's head: other agents sharing the database move it too.
    var head: AuditAnchor? { (try? store.auditAnchor()) ?? headLock.withLock { lastHead } }
    var refusal: AuditError? { tampered }
    func awaitFullCheck() -> AuditError? { tampered }

    func append(_ events: [AuditEvent], then changes: [StateChange]) throws -> [AuditRecord] {
        if let tampered { throw tampered }
        let records = try store.append(events, then: changes, at: clock(), redactor: redactor)
        if let last = records.last { headLock.withLock { lastHead = AuditAnchor(seq: last.seq, hash: last.hash) } }
        return records
    }

    func appendBeforeStore(_ events: [AuditEvent], then changes: [StateChange]) throws -> () throws -> Void {
        _ = try append(events, then: changes)
        return {}
    }

    func records() throws -> [AuditRecord] { try store.chainRecords() }
}
