import Foundation
import SpecModel

/// Runs each deployed stage's `observe` command and reports what it says is really deployed.
struct DriftObserver {
    let stateDirectory: String
    let environment: StepEnvironment
    let runner: any CommandRunner

    /// Observed candidate ids by stage; stages without `observe`, or not deployed, are absent.
    /// A command that fails or prints nothing reports nothing (the stage is not called drifted on no evidence).
    func observe(_ inputs: [PipelineInput], stages: [StageKey: StageRecord], promotions: [PromotionRecord]) -> [StageKey: String]
    {
        var observed: [StageKey: String] = [:]
        for input in inputs {
            guard let pipeline = input.pipeline else { continue }
            for stage in pipeline.spec.stages {
                let key = StageKey(pipeline.name, stage.name)
                guard let spec = stage.observe, let current = stages[key]?.current else { continue }
                let checkout = promotions.checkout(deploying: current, in: key, stateDirectory: stateDirectory)
                let action = PromotionAction(key: key, candidate: current, previous: current, pipeline: pipeline, stage: stage)
                if let id = run(
                    spec, checkout: checkout, variables: environment.variables(for: action, promotionID: 0, checkout: checkout))
                {
                    observed[key] = id
                }
            }
        }
        return observed
    }

    private func run(_ spec: ObserveSpec, checkout: String, variables: [String: String]) -> String? {
        let directory = spec.workdir.map { "\(checkout)/\($0)" } ?? checkout
        let result = runner.capture(
            spec.run, directory: FileManager.default.fileExists(atPath: directory) ? directory : stateDirectory,
            environment: variables, timeout: .milliseconds(spec.timeout?.milliseconds ?? 60_000), limit: 4096)
        let last = result.output.split(separator: "\n").last?.trimmingCharacters(in: .whitespaces) ?? ""
        return result.succeeded && !last.isEmpty ? last : nil
    }
}
