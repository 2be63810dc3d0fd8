import ArgumentParser
import Foundation
import Logging
import Reconciler

/// `pipeline-agent status`: the stages as the state store knows them; no fetch.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every stage from the state store (the last pass's plan, with current candidates); no fetch.",
        discussion: """
            --output json is plan's document plus a `source` block (url, lastFetch, lastError); \
            `pipeline-agent schema --status` prints its JSON Schema. Reads the state store only: safe next to a \
            running agent. Exit status: 0; 1 when the state cannot be read; 2 for a usage error or an unreadable config.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let config = try options.load()
        let plan = try StatusReport.current(StateStores.reader(config))
        switch output {
        case .text:
            print(PlanText.render(plan, title: "Status"), terminator: "")
            print("Isolation: \(StepIsolation.resolve(config.execution).summary)")
        case .json: print(try plan.json())
        }
    }
}
