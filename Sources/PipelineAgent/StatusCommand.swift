import ArgumentParser
import Foundation
import Logging
import Reconciler

/// `pipeline-agent status`: the stages as the state store knows them; no fetch.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every stage from the state store (the last pass's plan, with current candidates); no fetch.",
        discussion: "--output json has the same shape as `plan --output json`."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let config = try options.load()
        let store = try SQLiteStateStore(directory: config.stateDirectory)
        var plan = try store.lastPlan().flatMap(Plan.decode) ?? Plan(pipelines: [])
        let records = try store.stages()
        for pipelineIndex in plan.pipelines.indices {
            for stageIndex in plan.pipelines[pipelineIndex].stages.indices {
                let stage = plan.pipelines[pipelineIndex].stages[stageIndex]
                guard let record = records[StageKey(plan.pipelines[pipelineIndex].name, stage.name)] else { continue }
                plan.pipelines[pipelineIndex].stages[stageIndex].current = record.current
                plan.pipelines[pipelineIndex].stages[stageIndex].health = record.health
            }
        }
        switch output {
        case .text: print(PlanText.render(plan, title: "Status"), terminator: "")
        case .json: print(try plan.json())
        }
    }
}
