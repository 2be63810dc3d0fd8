import Foundation
import Reconciler
import SpecModel
import Testing

/// One folder of PlanFixtures: pipeline.yaml (specs), state.json (actual state, history, clock), expected.json.
struct PlanFixture {
    struct State: Decodable {
        struct StageState: Decodable {
            let stage: String
            let current: String?
        }
        struct Promotion: Decodable {
            let stage: String
            let candidate: String
            let status: String
            let endedAt: String?
            let specChanged: Bool?
        }
        let now: String
        let candidates: [String]
        let stages: [StageState]?
        let promotions: [Promotion]?
        let invalid: Bool?
        /// The agent config's floor, when the fixture has one.
        let protect: [ProtectRule]?
        /// Candidates (short ids) approved by enough approvers in every stage that needs approvals.
        let approved: [String]?
        /// What a stage's `observe` command reports as deployed (short ids), by stage.
        let observed: [String: String]?
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("PlanFixtures")

    static func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.path).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Candidate ids are written short in fixtures ("c3") and padded to 40 hex-ish characters.
    static func id(_ short: String) -> String { short.padding(toLength: 40, withPad: "0", startingAt: 0) }

    static func input(_ name: String) throws -> PlanInput {
        let folder = root.appendingPathComponent(name)
        let catalog = SpecCatalog(files: [
            ("pipelines/pipeline.yaml", try Data(contentsOf: folder.appendingPathComponent("pipeline.yaml")))
        ]
        )
        let pipeline = try #require(catalog.pipelines.first?.pipeline, "\(catalog.diagnostics)")
        let state = try JSONDecoder().decode(State.self, from: Data(contentsOf: folder.appendingPathComponent("state.json")))
        let now = try #require(AuditTime.parse(state.now))
        let candidates = state.candidates.enumerated().map { index, short in
            Candidate(
                id: id(short), time: now.addingTimeInterval(Double(-3600 * (index + 1))), authorEmail: "dev@acme.test",
                summary: short)
        }
        var stages: [StageKey: StageRecord] = [:]
        for entry in state.stages ?? [] {
            let key = StageKey(pipeline.name, entry.stage)
            stages[key] = StageRecord(key: key, current: entry.current.map(id))
        }
        let promotions = (state.promotions ?? []).enumerated().map { index, entry in
            let stage = pipeline.stage(named: entry.stage)
            let ended = entry.endedAt.flatMap(AuditTime.parse)
            return PromotionRecord(
                id: Int64(index + 1), key: StageKey(pipeline.name, entry.stage), candidate: id(entry.candidate), previous: nil,
                status: PromotionStatus(rawValue: entry.status) ?? .failed, startedAt: ended ?? now, endedAt: ended,
                reason: entry.status == "succeeded" ? nil : "verification failed",
                specDigest: entry.specChanged == true ? "older-spec" : stage.map(StageDigest.of) ?? "")
        }
        let diagnostics = state.invalid == true ? [Diagnostic(.error, file: "pipelines/shop.yaml", at: .start, "broken")] : []
        var input = PlanInput(
            pipelines: [PipelineInput(name: pipeline.name, pipeline: pipeline, candidates: candidates, diagnostics: diagnostics)],
            stages: stages, promotions: promotions, now: now, floor: ProtectFloor(state.protect ?? []))
        if let approved = state.approved { input.approvals = ApprovesOnly(approved: Set(approved.map(id))) }
        input.observed = Dictionary(
            uniqueKeysWithValues: (state.observed ?? [:]).map { (StageKey(pipeline.name, $0.key), id($0.value)) })
        return input
    }

    /// What a golden file pins: the plan as users see it, the promotions it starts and when it wakes up.
    struct Golden: Encodable {
        struct Action: Encodable {
            let stage: String
            let candidate: String
            let previous: String?
            let reliesOnApprovals: Bool
        }
        let plan: Plan
        let actions: [Action]
        let nextWake: String?

        init(_ plan: Plan) {
            self.plan = plan
            actions = plan.actions.map {
                Action(
                    stage: $0.key.stage, candidate: $0.candidate, previous: $0.previous, reliesOnApprovals: $0.reliesOnApprovals)
            }
            nextWake = plan.nextWake.map(AuditTime.format)
        }

        func json() throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
        }
    }
}

@Suite("Planner golden files: specs + actual state + clock → plan")
struct PlannerGoldenTests {
    @Test("each fixture folder plans exactly as its expected.json", arguments: try PlanFixture.names())
    func golden(name: String) throws {
        let json = try PlanFixture.Golden(Planner.plan(try PlanFixture.input(name))).json()
        let expectedURL = PlanFixture.root.appendingPathComponent(name).appendingPathComponent("expected.json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try Data(json.utf8).write(to: expectedURL)
        }
        #expect(json == (try String(contentsOf: expectedURL, encoding: .utf8)))
    }

    @Test("the planner is pure: same input, same plan")
    func deterministic() throws {
        for name in try PlanFixture.names() {
            let input = try PlanFixture.input(name)
            #expect(Planner.plan(input) == Planner.plan(input))
        }
    }
}

/// Approves exactly the listed candidates.
struct ApprovesOnly: ApprovalEvaluator {
    let approved: Set<String>

    func status(
        pipeline: Pipeline, stage: Stage, candidate: Candidate, current: String?, candidates: [Candidate]
    ) -> ApprovalStatus {
        let ok = approved.contains(candidate.id)
        return ApprovalStatus(have: ok ? 2 : 0, need: 2, by: ok ? ["alice@acme.test", "bob@acme.test"] : [])
    }
}

@Suite("Manual stages and approvals in the planner")
struct ManualStagePlannerTests {
    @Test("a newer verified candidate without approvals makes prod wait, even though the older one is approved and running")
    func newerCandidateWaits() throws {
        var input = try PlanFixture.input("waiting-approval")
        let c1 = PlanFixture.id("c1")
        let c2 = PlanFixture.id("c2")
        let now = input.now
        input.pipelines[0] = PipelineInput(
            name: "shop", pipeline: input.pipelines[0].pipeline,
            candidates: [
                Candidate(id: c2, time: now, authorEmail: "dev@acme.test", summary: "c2"),
                Candidate(id: c1, time: now.addingTimeInterval(-60), authorEmail: "dev@acme.test", summary: "c1"),
            ])
        for stage in ["dev", "staging", "prod"] {
            input.stages[StageKey("shop", stage)] = StageRecord(key: StageKey("shop", stage), current: c1)
        }
        input.promotions.append(
            PromotionRecord(
                id: 99, key: StageKey("shop", "staging"), candidate: c2, previous: c1, status: .succeeded,
                startedAt: now.addingTimeInterval(-7200), endedAt: now.addingTimeInterval(-3600), reason: nil, specDigest: ""))
        input.approvals = ApprovesOnly(approved: [c1])
        let prod = try #require(Planner.plan(input).pipelines.first?.stages.last)
        #expect(prod.phase == .waitingApproval)
        #expect(prod.desired == c2)
        input.approvals = ApprovesOnly(approved: [c1, c2])
        let approvedPlan = Planner.plan(input)
        #expect(approvedPlan.pipelines.first?.stages.last?.phase == .outOfSync)
        #expect(approvedPlan.actions.first?.candidate == c2)
    }
}
