import Foundation

/// The stages as the state store knows them: the last pass's plan with the recorded candidates and health.
public enum StatusReport {
    public static func current(_ store: any StateReader) throws -> Plan {
        var plan = try store.lastPlan() ?? Plan(pipelines: [])
        let (records, promotions) = try store.stagesAndPromotions()
        let running = Dictionary(
            promotions.filter { $0.status == .running }.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        for pipelineIndex in plan.pipelines.indices {
            let name = plan.pipelines[pipelineIndex].name
            for stageIndex in plan.pipelines[pipelineIndex].stages.indices {
                let stage = plan.pipelines[pipelineIndex].stages[stageIndex]
                let key = StageKey(name, stage.name)
                if let promotion = running[key] {
                    // The plan was saved when the pass began; the store knows the promotion is under way.
                    plan.pipelines[pipelineIndex].stages[stageIndex].phase = .promoting
                    plan.pipelines[pipelineIndex].stages[stageIndex].desired = promotion.candidate
                    plan.pipelines[pipelineIndex].stages[stageIndex].reason =
                        "promoting \(promotion.candidate.prefix(12)) (promotion \(promotion.id), since \(AuditTime.format(promotion.startedAt)))"
                }
                guard let record = records[key] else { continue }
                plan.pipelines[pipelineIndex].stages[stageIndex].current = record.current
                plan.pipelines[pipelineIndex].stages[stageIndex].health = record.health
            }
        }
        plan.source = try store.sourceState()
        if let shared = store as? PostgresStateStore { plan.agents = try shared.agents() }
        return plan
    }
}
