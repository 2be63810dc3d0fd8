import Foundation
import Logging
import SpecModel

/// The loop's side of sharing a PostgreSQL store with other agents (`AgentLease`): joining, whether this agent does
/// the once-only duties, and the promotions of dead agents it takes over. With SQLite (one agent) it is inert: the
/// agent is its own coordinator and nobody else's promotions exist.
final class Membership {
    private let store: PostgresStateStore?
    private let leaseSeconds: Double
    private let logger: Logger
    private(set) var lease: AgentLease?
    /// Whether this agent held the duties at the last pass (the pass recorder forgets what it cached when it
    /// takes them over: another agent recorded meanwhile).
    private var wasCoordinator = true

    init(store: any StateStore, config: AgentConfig, logger: Logger) {
        self.store = store as? PostgresStateStore
        leaseSeconds = config.ha?.leaseSeconds ?? HAConfig.defaultLeaseSeconds
        self.logger = logger
    }

    /// Whether other agents may share the store.
    var isShared: Bool { store != nil }
    /// Whether this agent records passes and runs health checks and checkpoints (always, alone).
    var isCoordinator: Bool { lease?.isCoordinator ?? !isShared }
    /// Whether this agent's lease ran out: it must stop its promotions (their writes are refused) and rejoin.
    var isLost: Bool { lease?.isLost ?? false }
    /// The name its records carry, when shared.
    var instance: String? { lease?.instance }

    /// Joins the store's agents and starts the heartbeat; `onChange` wakes the loop when the lease is lost or
    /// another agent's promotions are free to take.
    func join(onChange: @escaping @Sendable () -> Void) throws {
        guard let store, lease == nil else { return }
        let lease = try AgentLease(url: store.url, leaseSeconds: leaseSeconds, logger: logger)
        lease.onChange = onChange
        store.join(lease)
        lease.startHeartbeat()
        self.lease = lease
        logger.notice(
            "joined the agents on the database",
            metadata: [
                "instance": "\(lease.instance)", "leaseTimeout": "\(leaseSeconds)s", "coordinator": "\(lease.isCoordinator)",
            ])
    }

    /// True once when this agent became the coordinator since the last call.
    func becameCoordinator() -> Bool {
        let now = isCoordinator
        defer { wasCoordinator = now }
        return now && !wasCoordinator
    }

    /// Claims the running promotions of agents whose lease ran out (nothing when alone).
    func takeOrphans() throws -> [Int64] {
        guard let store, lease != nil else { return [] }
        let taken = try store.takeOrphans()
        if !taken.isEmpty {
            logger.warning(
                "taking over the promotions of agents whose lease ran out",
                metadata: ["promotions": "\(taken.map { "#\($0)" }.joined(separator: " "))"])
        }
        return taken
    }

    /// Running promotions of this agent that it does not run (`isRunning` says which stages it runs): a start that
    /// failed after its claim was stored (the database went away between the two).
    func strays(isRunning: (StageKey) -> Bool) throws -> [Int64] {
        guard let store, lease != nil else { return [] }
        return try store.ownRunning().filter { !isRunning($0.key) }.map(\.id)
    }

    /// Joins again under a new name (after the promotions of the lost one stopped).
    func rejoin() throws { try lease?.rejoin() }

    /// Leaves the agents (graceful stop).
    func leave() { lease?.stop() }
}
