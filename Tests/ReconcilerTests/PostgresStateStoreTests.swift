import Foundation
import TestSupport
import Testing

@testable import Reconciler

/// The PostgreSQL store against a real server: the same writes as the SQLite store read back the same, and the audit
/// chain in its table stays one chain when two stores (two agents) append at once.
@Suite("PostgreSQL state store")
struct PostgresStateStoreTests {
    /// One promotion's life and the loop's bookkeeping, written to any store.
    static func write(_ store: any StateStore, at date: Date) throws {
        let key = StageKey("shop", "dev")
        let promotion = try store.startPromotion(key, candidate: "c1", previous: nil, specDigest: "d1", at: date)
        try store.apply([
            .stepRun(
                StepRunRecord(
                    promotionID: promotion.id, phase: "steps", name: "build", attempt: 1, exitStatus: 0, durationMs: 12,
                    outputSHA256: "ab", logPath: "/l", result: "succeeded")),
            .outcome(PromotionOutcome(promotion, status: .succeeded, reason: nil, at: date.addingTimeInterval(1))),
            .phase("InSync", blockedReason: nil, key), .health(.healthy, key),
            .phase("WaitingApproval", blockedReason: "0 of 2", StageKey("shop", "prod")),
            .marker("m", "v"), .sourceState(SourceState(url: "u", lastFetch: date, lastError: "e")),
            .retry(RetryRecord(key: key, candidate: "c0", requestedAt: date, requestedBy: "ops", reason: "db back")),
            .planPipelines(changed: ["shop": #"{"name":"shop","stages":[]}"#], removed: []),
        ])
        let failed = try store.startPromotion(key, candidate: "c2", previous: "c1", specDigest: "d1", at: date)
        try store.finishPromotion(PromotionOutcome(failed, status: .failed, reason: "boom", at: date))
    }

    @Test("the same writes read back the same from SQLite and from PostgreSQL")
    func sameAsSQLite() throws {
        guard let cluster = try PostgresCluster.forTest("PostgreSQL store") else { return }
        let scratch = try Scratch()
        let sqlite = try SQLiteStateStore(directory: scratch.path)
        let postgres = try PostgresStateStore(url: cluster.url)
        // Whole seconds: both stores keep milliseconds, but SQLite parses them back into a nearby double.
        let date = Date(timeIntervalSince1970: 1_790_000_000)
        try Self.write(sqlite, at: date)
        try Self.write(postgres, at: date)
        let (left, right) = (try postgres.stages(), try sqlite.stages())
        #expect(left == right, "\(left)\n\(right)")
        #expect(try postgres.promotions() == sqlite.promotions())
        #expect(try postgres.stagesAndPromotions().promotions.count == 2)
        #expect(try postgres.stepRuns(promotion: 1) == sqlite.stepRuns(promotion: 1))
        #expect(try postgres.retries() == sqlite.retries())
        #expect(try postgres.sourceState() == sqlite.sourceState())
        #expect(try postgres.marker("m") == "v")
        #expect(try postgres.lastPlan()?.pipelines.map(\.name) == ["shop"])
        #expect(try postgres.markAudited("k") && !postgres.markAudited("k"), "once, across calls")
        // A second store on the same database (another agent, or a restart) migrates nothing twice and sees it all.
        #expect(try PostgresStateStore(url: cluster.url).stages() == sqlite.stages())
    }

    @Test("two agents appending at once make one chain; a record never lands without its state change")
    func oneChain() throws {
        guard let cluster = try PostgresCluster.forTest("PostgreSQL store") else { return }
        let stores = try [PostgresStateStore(url: cluster.url), PostgresStateStore(url: cluster.url)]
        DispatchQueue.concurrentPerform(iterations: 2) { agent in
            for index in 0..<40 {
                _ = try? stores[agent].append(
                    [AuditEvent("test.appended", detail: ["agent": .int(Int64(agent)), "index": .int(Int64(index))])],
                    then: [.marker("agent-\(agent)", "\(index)")], at: Date())
            }
        }
        let verification = try stores[0].verifyChain()
        #expect(verification.problem == nil && verification.count == 80, "\(String(describing: verification.problem))")
        #expect(try stores[1].marker("agent-0") == "39" && stores[1].marker("agent-1") == "39")

        // A state change that fails (a step run of no promotion) takes its record with it.
        #expect(throws: PostgresError.self) {
            try stores[0].append(
                [AuditEvent("step.finished")],
                then: [
                    .stepRun(
                        StepRunRecord(
                            promotionID: 999, phase: "steps", name: "x", attempt: 1, exitStatus: 0, durationMs: 1,
                            outputSHA256: nil, logPath: nil, result: "succeeded"))
                ], at: Date())
        }
        #expect(try stores[0].auditAnchor()?.seq == 80)
        // The table refuses to be rewritten, whatever the agent's code does.
        #expect(throws: PostgresError.self) {
            try stores[0].connection.execute("UPDATE audit_records SET line = 'x' WHERE seq = 1")
        }
        #expect(throws: PostgresError.self) { try stores[0].connection.execute("DELETE FROM audit_records WHERE seq = 80") }

        // The export is the file's format: the standalone verifier of the file log accepts it as it is.
        let scratch = try Scratch()
        try stores[0].exportChain().write(to: URL(fileURLWithPath: scratch.sub("audit.jsonl")))
        let head = try #require(try stores[0].auditAnchor())
        try sh(
            "sqlite3", scratch.sub("state.sqlite"),
            "CREATE TABLE audit_anchor (id INTEGER PRIMARY KEY, seq INTEGER, hash TEXT); INSERT INTO audit_anchor VALUES (1, \(head.seq), '\(head.hash)')"
        )
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let script = try runProcess(["python3", "\(root)/scripts/verify-audit.py", scratch.path])
        #expect(script.status == 0 && script.stdout.hasPrefix("intact: 80 records"), "\(script.stdout)\(script.stderr)")
    }
}
