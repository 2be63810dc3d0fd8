import Foundation
import Logging
import SpecModel

/// A change of the agent's durable state that follows the audit record announcing it.
public enum StateChange: Sendable {
    case stepRun(StepRunRecord)
    case outcome(PromotionOutcome)
    case health(Health, StageKey)
    case phase(String, blockedReason: String?, StageKey)
    case marker(String, String)
    /// Pipelines whose plan changed (name → JSON) and pipelines no longer planned.
    case planPipelines(changed: [String: String], removed: [String])
    case sourceState(SourceState)
    case validSpec(ValidSpec)
    /// An operator asked to retry a failed candidate (`pipeline-agent retry`).
    case retry(RetryRecord)
}

/// The one writer of what the agent did: the audit log, the state store and the notification
/// channels. Each fact is a record first and then its state change, under one lock, so that writers
/// on several threads (the loop, a promotion, notification delivery) never interleave a pair and
/// the store never says something the log does not.
public final class Recorder: @unchecked Sendable {
    private let chain: any AuditChain
    private let store: any StateStore
    private let notifier: NotificationDispatcher
    /// Shared with the notification thread's records: one order for log and store.
    private let gate: NSLock
    /// Once-keys already in the store: an idle pass then writes nothing to SQLite.
    private var knownOnce: Set<String> = []
    /// A service-log line for each decision an operator watches for, once it is recorded.
    private let decisions: DecisionLog

    /// Opens the audit log in the state directory (verifying it) and the notification channels.
    public init(
        config: AgentConfig, store: any StateStore, redactor: SecretRedactor, logger: Logger,
        clock: @escaping @Sendable () -> Date
    ) throws {
        let chain: any AuditChain =
            if let tables = store as? PostgresStateStore {
                try TableAuditChain(store: tables, redactor: redactor, clock: clock)
            } else {
                try FileAuditChain(config: config, store: store, redactor: redactor, logger: logger, clock: clock)
            }
        let gate = NSLock()
        decisions = DecisionLog(logger: logger, redactor: redactor)
        self.chain = chain
        self.store = store
        auditPath = "\(config.stateDirectory)/\(AuditLog.fileName)"
        self.gate = gate
        notifier = NotificationDispatcher(
            config: config, redactor: redactor, logger: logger,
            record: { event in try gate.withLock { _ = try chain.append([event], then: []) } })
    }

    /// The state as recorded so far, for reading.
    public var state: any StateReader { store }
    /// Where the audit log file is (when the chain is a file: SQLite's embedded default).
    public let auditPath: String
    /// Every record of the audit chain, in order.
    func auditRecords() throws -> [AuditRecord] { try chain.records() }
    /// The last record's sequence number and hash.
    public var auditHead: AuditAnchor? { chain.head }
    /// Why the audit log refuses to record (tampering, a failed write), or nil: then nothing may act.
    public var auditRefusal: AuditError? { chain.refusal }

    /// Waits for the start-up check of the records before the log's last verified point; returns the
    /// refusal, if any (`run --once` reports it before exiting).
    public func awaitAuditCheck() -> AuditError? {
        chain.awaitFullCheck()
    }

    /// Appends `event`, then applies `changes` (each in its own transaction, in order).
    func record(_ event: AuditEvent, then changes: StateChange...) throws {
        try record([event], then: changes)
    }

    /// Appends `events` durably, then applies `changes` (with the file chain, in the anchor's transaction; with the
    /// table, in the records' own): the store never holds half of what a record announced.
    func record(_ events: [AuditEvent], then changes: [StateChange]) throws {
        _ = try gate.withLock { try chain.append(events, then: changes) }
        decisions.log(events)
    }

    /// A change with no record of its own (a phase, a marker, a cache): it explains nothing by itself.
    func save(_ change: StateChange) throws {
        try save([change])
    }

    /// Changes with no record of their own, in one transaction (nothing when empty).
    func save(_ changes: [StateChange]) throws {
        guard !changes.isEmpty else { return }
        try gate.withLock { try store.apply(changes) }
    }

    /// Appends `events` durably now and leaves their store transaction to the returned commit, which holds the
    /// gate until it is made: a step starts as soon as its `step.started` is on disk and the store's fsync runs
    /// while it does (decision 0019). Made and released on the calling thread.
    func recordBeforeStore(_ events: [AuditEvent], then changes: [StateChange]) throws -> StoreCommit {
        gate.lock()
        let applyChanges: () throws -> Void
        do {
            applyChanges = try chain.appendBeforeStore(events, then: changes)
        } catch {
            gate.unlock()
            throw error
        }
        decisions.log(events)
        let gate = gate
        return StoreCommit(work: applyChanges, release: { gate.unlock() })
    }

    /// The promotion's row first (its id goes into the record), then `promotion.started`: a crash between
    /// the two leaves a promotion the log never announced, which recovery closes as "nothing ran". Nil when another
    /// agent sharing the store claimed the stage first.
    func startPromotion(
        _ action: PromotionAction, specDigest: String, at: Date, announce: (PromotionRecord) -> AuditEvent
    ) throws -> PromotionRecord? {
        try gate.withLock {
            guard let promotion = try store.claimPromotion(action, specDigest: specDigest, at: at) else { return nil }
            let event = announce(promotion)
            try chain.append([event], then: [])
            decisions.log([event])
            return promotion
        }
    }

    /// True the first time `key` is seen, across restarts (the store keeps the keys).
    func firstTime(_ key: String) throws -> Bool {
        try gate.withLock {
            guard !knownOnce.contains(key) else { return false }
            let first = try store.markAudited(key)
            knownOnce.insert(key)
            return first
        }
    }

    /// Queues `event` for the named channels; each delivery attempt is recorded by this recorder.
    func announce(_ event: NotificationEvent, to channels: [String]) {
        guard !channels.isEmpty else { return }
        notifier.send(event, to: channels)
    }

    /// Waits until queued notifications are delivered or given up, at most `timeout`.
    public func drainNotifications(timeout: Duration = .seconds(60)) {
        notifier.drain(timeout: timeout)
    }
}

/// The store transaction of records already on disk, made once (`make`), then the recorder's gate is released.
final class StoreCommit: @unchecked Sendable {
    private var work: (() throws -> Void)?
    private let release: () -> Void
    private var failure: Error?

    init(work: @escaping () throws -> Void, release: @escaping () -> Void) {
        self.work = work
        self.release = release
    }

    /// Commits (the first call only) and releases the gate; a failure is kept for `finish`.
    func make() {
        guard let work else { return }
        self.work = nil
        do { try work() } catch { failure = error }
        release()
    }

    /// Commits if that was not done yet; throws what the commit threw.
    func finish() throws {
        make()
        if let failure { throw failure }
    }
}
