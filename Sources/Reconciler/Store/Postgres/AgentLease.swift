import Foundation
import Logging
import Synchronization

/// One agent's membership of a shared PostgreSQL store: a row in `agents` with a lease it renews every third of
/// `ha.leaseTimeout` on a connection of its own. An agent whose lease ran out is *lost*: another agent takes its
/// running promotions (`takeOrphans`), and every write it tries after that fails in its own transaction (`fence`).
/// A lost agent rejoins under a new instance name, so nothing it still holds from before can pass the fence.
public final class AgentLease: @unchecked Sendable {
    /// The host and process, the first part of every instance name.
    public let host: String
    public let leaseSeconds: Double
    private let connection: PostgresConnection
    /// The heartbeat's thread and the loop's (rejoining, leaving) share the connection: one statement at a time.
    private let connectionLock = NSLock()
    private let logger: Logger
    private let lock = NSCondition()
    private var current: String
    private var lost = false
    private var coordinating = false
    private var stopped = false
    /// Called (on the heartbeat's thread) when the agent lost its lease or another agent's claims are free.
    public var onChange: (@Sendable () -> Void)?

    /// Joins the database's agents (a new `agents` row with a lease starting now).
    public init(url: String, leaseSeconds: Double, logger: Logger) throws {
        host = ProcessInfo.processInfo.hostName
        self.leaseSeconds = leaseSeconds
        self.logger = logger
        connection = try PostgresConnection(url: url) { try $0.execute("SET TIME ZONE 'UTC'") }
        current = Self.nextName(host: host)
        try join(current)
    }

    /// The name this agent writes under now (records carry it; a promotion belongs to it).
    public var instance: String { lock.withLock { current } }
    /// Whether the lease ran out (or another agent took it): the agent must stop its promotions and rejoin.
    public var isLost: Bool { lock.withLock { lost } }
    /// Whether this agent holds the once-only duties (recording passes, health checks, checkpoints).
    public var isCoordinator: Bool { lock.withLock { coordinating && !lost } }

    @discardableResult
    private func sql(_ text: String, _ parameters: [String?] = []) throws -> PostgresRows {
        try connectionLock.withLock {
            do {
                return try connection.execute(text, parameters)
            } catch let error as PostgresError where error.kind == .retry {
                // A connection the server closed (a restart) fails once; the next statement reconnects.
                return try connection.execute(text, parameters)
            }
        }
    }

    private func join(_ name: String) throws {
        try releaseDeadNeighbours()
        try sql(
            """
            INSERT INTO agents (instance, host, pid, pid_namespace, process_start, lease_until)
            VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
            """, [name, host, String(getpid()), Self.pidNamespace, Self.processStart(getpid()) ?? "", String(leaseSeconds)])
        try takeDuty()
    }

    /// Agents of this host and PID namespace whose process is gone (a crash, a restart) lose their lease now instead
    /// of at its end: a restarted agent recovers its own promotions at once, as with SQLite. A process is the same
    /// only with the same start time since the same boot (a container's agent is always PID 1).
    private func releaseDeadNeighbours() throws {
        let rows = try sql(
            """
            SELECT instance, pid, process_start FROM agents
            WHERE host = $1 AND pid_namespace = $2 AND lost_at IS NULL AND stopped_at IS NULL AND lease_until > now()
            """, [host, Self.pidNamespace])
        for row in rows.rows {
            guard let instance = row[0], let pid = row[1].flatMap({ pid_t($0) }) else { continue }
            guard Self.processStart(pid) != row[2] else { continue }
            try sql("UPDATE agents SET lease_until = now() WHERE instance = $1", [instance])
            logger.notice(
                "an earlier agent of this host is gone; its promotions are recovered now", metadata: ["instance": "\(instance)"])
        }
    }

    /// `host:pid.n`, n counting the leases this process made (a rejoin, or several stores in one process).
    private static func nextName(host: String) -> String {
        "\(host):\(getpid()).\(leasesMade.add(1, ordering: .relaxed).newValue)"
    }

    private static let leasesMade = Atomic<Int>(0)

    /// When process `pid` started (clock ticks since boot, `/proc/PID/stat` field 22) on this boot; nil when there is
    /// no such process. Equal for one process only, so a reused process id is told apart.
    static func processStart(_ pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[end...].split(separator: " ")
        guard fields.count > 20 else { return nil }
        return "\(bootID)/\(fields[20])"
    }

    private static let bootID =
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"

    /// Which PID namespace process ids belong to (two containers on one host name each have their own).
    static let pidNamespace: String =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? "unknown"

    /// Joins again under a new instance name after the lease was lost.
    public func rejoin() throws {
        let name = Self.nextName(host: host)
        try join(name)
        lock.withLock {
            current = name
            lost = false
        }
        logger.notice("rejoined the agents on the database", metadata: ["instance": "\(name)"])
    }

    /// Renews the lease (and the duty when held or free); false when it was lost.
    @discardableResult
    public func renew() throws -> Bool {
        let name = instance
        let renewed = try sql(
            """
            UPDATE agents SET heartbeat_at = now(), lease_until = now() + make_interval(secs => $2)
            WHERE instance = $1 AND lost_at IS NULL AND stopped_at IS NULL AND lease_until > now()
            """, [name, String(leaseSeconds)]
        ).affected
        guard renewed == 1 else {
            markLost(name)
            return false
        }
        try takeDuty()
        return true
    }

    private func markLost(_ name: String) {
        let wasLost = lock.withLock { () -> Bool in
            defer { lost = true }
            return lost || current != name
        }
        guard !wasLost else { return }
        logger.error(
            "this agent's lease on the database ran out: its promotions belong to other agents now; it stops them and rejoins",
            metadata: ["instance": "\(name)"])
        onChange?()
    }

    /// The coordinator duty: held while renewed with the lease, taken over when it lapsed or its holder is not live.
    private func takeDuty() throws {
        let name = instance
        let held =
            try sql(
                """
                INSERT INTO duties (name, holder, until) VALUES ('coordinator', $1, now() + make_interval(secs => $2))
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
                WHERE duties.holder = excluded.holder OR duties.until < now() OR NOT EXISTS (
                    SELECT 1 FROM agents WHERE instance = duties.holder AND lost_at IS NULL AND stopped_at IS NULL
                    AND lease_until > now())
                RETURNING holder
                """, [name, String(leaseSeconds)]
            ).rows.count == 1
        lock.withLock { coordinating = held }
    }

    /// Whether an agent's lease ran out with promotions still claimed: `takeOrphans` would take them.
    public func orphansExist() throws -> Bool {
        try !sql(
            """
            SELECT 1 FROM promotions p WHERE p.status = 'running' AND NOT EXISTS (
                SELECT 1 FROM agents a WHERE a.instance = p.agent AND a.lost_at IS NULL AND a.stopped_at IS NULL
                AND a.lease_until > now()) LIMIT 1
            """
        ).rows.isEmpty
    }

    /// Renews every third of the lease on a thread of its own until `stop`.
    public func startHeartbeat() {
        let thread = Thread { [self] in
            while lock.withLock({ !stopped }) {
                var pause = leaseSeconds / 3
                do {
                    try renew()
                    if try orphansExist() { onChange?() }
                } catch {
                    // Try again soon: the lease runs out while the database is away.
                    pause = min(pause, 1)
                    logger.warning("cannot renew the lease on the database", metadata: ["error": "\(error)"])
                }
                lock.withLock { _ = stopped || lock.wait(until: Date().addingTimeInterval(pause)) }
            }
        }
        thread.start()
    }

    /// Leaves: the lease ends now and the duty is free (graceful stop; the promotions were recorded before).
    public func stop() {
        lock.withLock {
            stopped = true
            lock.broadcast()
        }
        let name = instance
        _ = try? sql(
            "UPDATE agents SET stopped_at = now(), lease_until = now() WHERE instance = $1 AND lost_at IS NULL", [name])
        _ = try? sql("DELETE FROM duties WHERE holder = $1", [name])
    }
}
