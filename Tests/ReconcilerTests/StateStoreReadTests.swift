import Foundation
import TestSupport
import Testing

@testable import Reconciler

@Suite("The writable store's reads of stages, promotions and the plan")
struct StateStoreReadTests {
    /// What a second, read-only connection (no cache) says: the database itself.
    static func truth(_ directory: String) throws -> (stages: [StageKey: StageRecord], promotions: [PromotionRecord]) {
        let reader = try SQLiteStateStore(directory: directory, readOnly: true)
        return (try reader.stages(), try reader.promotions())
    }

    @Test("every write through the store is seen by the next read, as the database holds it")
    func readsFollowWrites() throws {
        let scratch = try Scratch()
        let store = try SQLiteStateStore(directory: scratch.path)
        let key = StageKey("shop", "dev")
        #expect(try store.stages().isEmpty && store.promotions().isEmpty, "read (and kept) while empty")
        try store.apply([.phase("Promoting", blockedReason: nil, key)])
        #expect(try store.stages()[key]?.phase == "Promoting")
        let started = try store.startPromotion(key, candidate: "c1", previous: nil, specDigest: "sha256:x", at: Date())
        #expect(try store.promotions().map(\.id) == [started.id])
        try store.commit(
            [.outcome(PromotionOutcome(started, status: .succeeded, reason: nil, at: Date())), .health(.warning, key)],
            anchor: AuditAnchor(seq: 1, hash: "h", end: 10))
        let afterOutcome = try store.stages()[key]
        #expect(afterOutcome?.current == "c1" && afterOutcome?.health == .warning)
        #expect(try store.promotions().first?.status == .succeeded)
        try store.apply([.marker("m", "v"), .sourceState(SourceState(url: "u", lastFetch: Date(), lastError: nil))])
        let truth = try Self.truth(scratch.path)
        #expect(try store.stages() == truth.stages)
        #expect(try store.promotions() == truth.promotions)
    }

    @Test("promotions started and ended out of order read back in id order, as the database holds them")
    func promotionsKeepTheirOrder() throws {
        let scratch = try Scratch()
        let store = try SQLiteStateStore(directory: scratch.path)
        var open: [PromotionRecord] = []
        for round in 0..<30 {
            let key = StageKey("p\(round % 7)", round % 2 == 0 ? "dev" : "prod")
            open.append(try store.startPromotion(key, candidate: "c\(round)", previous: nil, specDigest: "d", at: Date()))
            // End every third one, taken from the middle, so that updates land between appends.
            if round % 3 == 2 {
                let ending = open.remove(at: open.count / 2)
                try store.commit(
                    [.outcome(PromotionOutcome(ending, status: .failed, reason: "r\(round)", at: Date()))],
                    anchor: AuditAnchor(seq: Int64(round), hash: "h", end: Int64(round)))
            }
            let read = try store.promotions()
            #expect(try read == Self.truth(scratch.path).promotions, "after round \(round)")
            #expect(read.map(\.id) == read.map(\.id).sorted())
        }
        #expect(try store.promotions().count == 30)
    }

    @Test("a failed transaction leaves reads equal to the database")
    func rolledBack() throws {
        let scratch = try Scratch()
        let store = try SQLiteStateStore(directory: scratch.path)
        let key = StageKey("shop", "dev")
        try store.apply([.phase("InSync", blockedReason: nil, key)])
        _ = try store.stages()
        // A phase change then a step run of a promotion that does not exist: the foreign key fails the whole write.
        let orphan = StepRunRecord(
            promotionID: 999, phase: "steps", name: "s", attempt: 1, exitStatus: 0, durationMs: 1, outputSHA256: nil,
            logPath: nil, result: "succeeded")
        #expect(throws: (any Error).self) {
            try store.apply([.phase("Failed", blockedReason: nil, key), .stepRun(orphan)])
        }
        #expect(try store.stages()[key]?.phase == "InSync")
        #expect(try store.stages() == Self.truth(scratch.path).stages)
    }

    @Test("the plan is kept a pipeline a row; a store from before keeps its last plan")
    func planByPipeline() throws {
        let scratch = try Scratch()
        let store = try SQLiteStateStore(directory: scratch.path)
        let stage = StagePlan(
            name: "dev", current: nil, desired: "c1", phase: .promoting, health: .unknown, reason: "r",
            approvals: ApprovalSummary(have: 0, need: 0, by: []))
        let encoded = { (pipeline: PipelinePlan) in String(decoding: try JSONEncoder().encode(pipeline), as: UTF8.self) }
        let a = PipelinePlan(name: "a", stages: [stage])
        let b = PipelinePlan(name: "b", stages: [stage])
        try store.apply([.planPipelines(changed: ["b": try encoded(b), "a": try encoded(a)], removed: [])])
        #expect(try store.lastPlan()?.pipelines.map(\.name) == ["a", "b"])
        try store.apply([.planPipelines(changed: [:], removed: ["a"])])
        #expect(try store.lastPlan()?.pipelines == [b])

        // The v7 layout: the whole plan in one row of last_plan.
        let database = scratch.sub("state.sqlite")
        let whole = String(decoding: try JSONEncoder().encode(Plan(pipelines: [a, b])), as: UTF8.self)
        _ = try sh(
            "sqlite3", database,
            """
            DROP TABLE plan_pipelines; DELETE FROM grdb_migrations WHERE identifier = 'v8-plan-by-pipeline';
            INSERT INTO last_plan (id, json, created_at) VALUES (1, '\(whole)', '2026-11-27 10:00:00');
            """)
        let upgraded = try SQLiteStateStore(directory: scratch.path)
        #expect(try upgraded.lastPlan()?.pipelines == [a, b])
    }

    @Test("a reader next to an agent still migrating the database waits for it; with no agent, an old file is old")
    func readerWaitsForMigration() throws {
        let scratch = try Scratch()
        _ = try SQLiteStateStore(directory: scratch.path)
        let downgrade = {
            _ = try sh(
                "sqlite3", scratch.sub("state.sqlite"),
                "DROP TABLE plan_pipelines; DELETE FROM grdb_migrations WHERE identifier = 'v8-plan-by-pipeline';")
        }
        try downgrade()
        #expect(throws: StateStoreError.self) { try SQLiteStateStore(directory: scratch.path, readOnly: true) }

        let lock = try StateDirectoryLock(directory: scratch.path)
        let path = scratch.path
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { _ = try? SQLiteStateStore(directory: path) }
        let reader = try SQLiteStateStore(directory: scratch.path, readOnly: true)
        #expect(try reader.lastPlan() == nil, "read once the agent's migration finished")
        withExtendedLifetime(lock) {}
    }
}
