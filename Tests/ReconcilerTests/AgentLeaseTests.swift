import Foundation
import Logging
import TestSupport
import Testing

@testable import Reconciler

/// Leases, claims and the fence against a real PostgreSQL, below the agent.
@Suite("Agent leases on PostgreSQL")
struct AgentLeaseTests {
    @Test("two leases in one process are two live agents; a dead process's lease on this host is released at once")
    func namesAndDeadNeighbours() throws {
        guard let cluster = try PostgresCluster.forTest("agent leases") else { return }
        let store = try PostgresStateStore(url: cluster.url)
        let logger = Logger(label: "test")
        let first = try AgentLease(url: cluster.url, leaseSeconds: 60, logger: logger)
        let second = try AgentLease(url: cluster.url, leaseSeconds: 60, logger: logger)
        #expect(first.instance != second.instance)
        #expect(try store.agents().filter { $0.state == "live" }.count == 2, "the second did not release the first")
        #expect(first.isCoordinator != second.isCoordinator, "one coordinator")

        // A lease left by a process that is gone (a pid that does not exist on this host).
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        try store.connection.execute(
            """
            INSERT INTO agents (instance, host, pid, pid_namespace, process_start, lease_until)
            VALUES ('gone', $1, $2, $3, 'long ago', now() + interval '1 hour')
            """, [first.host, String(child.processIdentifier), AgentLease.pidNamespace])
        _ = try AgentLease(url: cluster.url, leaseSeconds: 60, logger: logger)
        #expect(try store.agents().first { $0.instance == "gone" }?.state == "lost")
        #expect(try store.agents().filter { $0.state == "live" }.count == 3)
    }

    @Test("a write of an agent whose lease ran out, or for a promotion another agent took, fails and writes nothing")
    func fence() throws {
        guard let cluster = try PostgresCluster.forTest("the fence") else { return }
        let logger = Logger(label: "test")
        let (mine, other) = (try PostgresStateStore(url: cluster.url), try PostgresStateStore(url: cluster.url))
        let lease = try AgentLease(url: cluster.url, leaseSeconds: 3, logger: logger)
        mine.join(lease)
        other.join(try AgentLease(url: cluster.url, leaseSeconds: 60, logger: logger))
        let promotion = try #require(
            try mine.startPromotion(StageKey("shop", "dev"), candidate: "c1", previous: nil, specDigest: "d", at: Date()))
        let started = AuditEvent("promotion.started", detail: ["promotionId": .int(promotion.id)])
        try mine.append([started], at: Date())
        #expect(throws: FencedWrite.self) { try other.append([started], at: Date()) }

        Thread.sleep(forTimeInterval: 3.2)
        let head = try mine.auditAnchor()
        #expect(throws: FencedWrite.self) {
            try mine.append([AuditEvent("step.started", detail: ["promotionId": .int(promotion.id)])], at: Date())
        }
        #expect(try other.takeOrphans() == [promotion.id])
        #expect(throws: FencedWrite.self) { try mine.apply([.marker("m", "v")]) }
        #expect(try mine.auditAnchor() == head, "nothing written")
        #expect(!(try lease.renew()) && lease.isLost)
        try lease.rejoin()
        #expect(throws: FencedWrite.self) {
            try mine.append([AuditEvent("promotion.interrupted", detail: ["promotionId": .int(promotion.id)])], at: Date())
        }
        try mine.append([AuditEvent("agent.started")], at: Date())
        #expect(try mine.verifyChain().isIntact)
    }
}
