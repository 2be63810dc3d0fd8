import Foundation
import SpecModel
import Testing

@testable import Reconciler

/// A plan that reuses the pipelines whose facts did not change must equal a plan made from scratch,
/// whatever changed: the candidates, a stage row, a promotion, an observation, the clock.
@Suite("Plans that reuse unchanged pipelines")
struct PlanMemoTests {
    /// Each change a pass can bring, applied to a fixture's input.
    static let changes: [(String, @Sendable (inout PlanInput) -> Void)] = [
        ("nothing", { _ in }),
        ("an hour passes", { $0.now = $0.now.addingTimeInterval(3600) }),
        ("a day passes", { $0.now = $0.now.addingTimeInterval(86_400) }),
        (
            "a new candidate",
            { input in
                let old = input.pipelines[0]
                let newest = Candidate(
                    id: PlanFixture.id("cf"), time: input.now, authorEmail: "dev@acme.test", summary: "cf")
                input.pipelines[0] = PipelineInput(
                    name: old.name, pipeline: old.pipeline, candidates: [newest] + old.candidates, diagnostics: old.diagnostics)
            }
        ),
        (
            "a stage row moves",
            { input in
                guard let first = input.pipelines[0].pipeline?.spec.stages.first else { return }
                let key = StageKey(input.pipelines[0].name, first.name)
                input.stages[key] = StageRecord(key: key, current: input.pipelines[0].candidates.first?.id)
            }
        ),
        (
            "a promotion starts",
            { input in
                guard let first = input.pipelines[0].pipeline?.spec.stages.first,
                    let candidate = input.pipelines[0].candidates.first
                else { return }
                input.promotions.append(
                    PromotionRecord(
                        id: 1000, key: StageKey(input.pipelines[0].name, first.name), candidate: candidate.id, previous: nil,
                        status: .running, startedAt: input.now, endedAt: nil, reason: nil, specDigest: ""))
            }
        ),
        (
            "a running promotion ends",
            { input in
                guard let index = input.promotions.lastIndex(where: { $0.status == .running }) else { return }
                let running = input.promotions[index]
                input.promotions[index] = PromotionRecord(
                    id: running.id, key: running.key, candidate: running.candidate, previous: running.previous,
                    status: .succeeded, startedAt: running.startedAt, endedAt: input.now, reason: nil,
                    specDigest: running.specDigest)
            }
        ),
        (
            "observe reports another candidate",
            { input in
                guard let first = input.pipelines[0].pipeline?.spec.stages.first else { return }
                input.observed[StageKey(input.pipelines[0].name, first.name)] = PlanFixture.id("c9")
            }
        ),
    ]

    @Test("after each change, every fixture plans as from scratch", arguments: try PlanFixture.names())
    func equalsFresh(name: String) throws {
        let base = try PlanFixture.input(name)
        let (first, memo) = Planner.plan(base, memo: PlanMemo())
        #expect(first == Planner.plan(base))
        for (label, change) in Self.changes {
            var input = base
            change(&input)
            let (reusing, _) = Planner.plan(input, memo: memo)
            #expect(reusing == Planner.plan(input), "\(name): \(label)")
        }
    }

    @Test("a plan waiting for the clock (soak, window) or judged by an evaluator without facts is made again")
    func clockAndUnknownApprovalsNotReused() throws {
        for name in ["soak-pending", "window-closed-sao-paulo", "approved-prod"] {
            let input = try PlanFixture.input(name)
            let (_, memo) = Planner.plan(input, memo: PlanMemo())
            #expect(Planner.plan(input, memo: memo).memo.reused == 0, "\(name)")
        }
        let input = try PlanFixture.input("soaked-promotes")
        let (_, memo) = Planner.plan(input, memo: PlanMemo())
        #expect(Planner.plan(input, memo: memo).memo.reused == 1, "a plan with nothing pending is reused")
    }

    @Test("of five pipelines, a new candidate of one plans that one again and reuses four")
    func onlyTheChangedPipeline() throws {
        let specs = (1...5).map { index in
            """
            apiVersion: pipeline-agent/v1
            kind: Pipeline
            metadata: {name: p\(index)}
            spec:
              source: {branch: main, paths: ["teams/p\(index)/**"]}
              stages:
                - {name: dev, steps: [{name: s, run: "true"}]}
                - {name: staging, from: dev, steps: [{name: s, run: "true"}]}

            """
        }
        let catalog = SpecCatalog(files: specs.enumerated().map { ("pipelines/p\($0.offset).yaml", Data($0.element.utf8)) })
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let c1 = Candidate(id: PlanFixture.id("c1"), time: now, authorEmail: "dev@acme.test", summary: "c1")
        var input = PlanInput(
            pipelines: catalog.pipelines.map { PipelineInput(name: $0.pipeline.name, pipeline: $0.pipeline, candidates: [c1]) },
            stages: [:], promotions: [], now: now)
        let (_, memo) = Planner.plan(input, memo: PlanMemo())
        let c2 = Candidate(id: PlanFixture.id("c2"), time: now, authorEmail: "dev@acme.test", summary: "c2")
        let third = input.pipelines[2]
        input.pipelines[2] = PipelineInput(name: third.name, pipeline: third.pipeline, candidates: [c2, c1])
        input.now = now.addingTimeInterval(60)
        let (plan, next) = Planner.plan(input, memo: memo)
        #expect(next.reused == 4)
        #expect(plan == Planner.plan(input))
        #expect(plan.actions.first { $0.key.pipeline == "p3" }?.candidate == c2.id)
    }
}
