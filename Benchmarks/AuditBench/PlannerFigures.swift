import Foundation
import Reconciler
import SpecModel

/// Planner cost for `count` pipelines × 3 stages, all in sync (an idle pass after the fetch).
func plannerFigures(count: Int) throws {
    var inputs: [PipelineInput] = []
    var stages: [StageKey: StageRecord] = [:]
    var promotions: [PromotionRecord] = []
    let now = Date()
    for index in 0..<count {
        let name = "p\(index)"
        let yaml = """
            apiVersion: pipeline-agent/v1
            kind: Pipeline
            metadata: {name: \(name)}
            spec:
              source: {branch: main, paths: ["\(name)/**"]}
              stages:
                - {name: dev, steps: [{name: s, run: "true"}]}
                - {name: staging, from: dev, steps: [{name: s, run: "true"}]}
                - {name: prod, from: staging, windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}], steps: [{name: s, run: "true"}]}
            """
        guard let pipeline = SpecCatalog(files: [("pipelines/\(name).yaml", Data(yaml.utf8))]).pipelines.first?.pipeline else {
            continue
        }
        let candidate = String(format: "%040x", index)
        inputs.append(
            PipelineInput(
                name: name, pipeline: pipeline,
                candidates: [Candidate(id: candidate, time: now, authorEmail: "dev@acme.test", summary: "c")]))
        for (offset, stage) in ["dev", "staging", "prod"].enumerated() {
            let key = StageKey(name, stage)
            stages[key] = StageRecord(key: key, current: candidate)
            promotions.append(
                PromotionRecord(
                    id: Int64(index * 3 + offset), key: key, candidate: candidate, previous: nil, status: .succeeded,
                    startedAt: now.addingTimeInterval(-7200), endedAt: now.addingTimeInterval(-3600), reason: nil,
                    specDigest: ""))
        }
    }
    let input = PlanInput(pipelines: inputs, stages: stages, promotions: promotions, now: now)
    _ = Planner.plan(input)
    let runs = 5
    let start = ContinuousClock.now
    var plan = Plan(pipelines: [])
    for _ in 0..<runs { plan = Planner.plan(input) }
    let elapsed = (ContinuousClock.now - start) / runs
    let inSync = plan.pipelines.flatMap(\.stages).filter { $0.phase == .inSync }.count
    print(
        "plan \(count) pipelines × 3 stages (all in sync: \(inSync) stages): \(elapsed) per pass, \(plan.actions.count) actions")
}
