import ArgumentParser
import Foundation
import Reconciler
import SpecModel

/// `pipeline-agent history`: a pipeline's (or stage's) promotions from the state store, newest first.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List a pipeline's promotions (one stage's with --stage), newest first, from the state store.",
        discussion: """
            Reads the state store only (no fetch; safe next to a running agent). Each line: promotion id, \
            stage, candidate, status, when it started, how long it took, and why it failed. `pipeline-agent \
            logs --promotion ID` shows its steps. Exit status: 0, or 1 when the state cannot be read.
            """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "The pipeline.") var pipeline: String
    @Option(help: "Only this stage.") var stage: String?
    @Option(help: "At most this many promotions.") var limit: Int = 20
    @Option(name: [.short, .long], help: "Output format: text or json.") var output: OutputFormat = .text

    func run() throws {
        let config = try options.load()
        let store = try StateStores.reader(config)
        let entries = try PromotionHistoryReport.entries(store, pipeline: pipeline, stage: stage, limit: limit)
        switch output {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
        case .text:
            guard !entries.isEmpty else {
                return print("no promotions of \(pipeline)\(stage.map { "/\($0)" } ?? "") recorded")
            }
            for entry in entries {
                let took = entry.durationMs.map { "\(Double($0) / 1000)s" } ?? "running"
                let why = entry.reason.map { "  \($0.printable)" } ?? ""
                print(
                    "#\(entry.id)  \(entry.stage)  \(entry.candidate.prefix(12))  \(entry.status)  \(entry.startedAt)  \(took)\(why)"
                )
            }
        }
    }
}

/// `pipeline-agent logs`: one promotion's steps with the tails of their logs.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show a promotion's steps (checks, rollback) with the last lines of each log, redacted.",
        discussion: """
            Reads the state store and the step logs under the state directory (pruned after \
            state.logRetention). Secrets the config grants are redacted again on output; control characters \
            are shown escaped. Exit status: 0, or 1 when there is no such promotion.
            """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: "The promotion id (from history, status or the audit log).") var promotion: Int64
    @Option(help: "Lines of each step's log to show.") var lines: Int = 20
    @Option(name: [.short, .long], help: "Output format: text or json.") var output: OutputFormat = .text

    func run() throws {
        let config = try options.load()
        let store = try StateStores.reader(config)
        let redactor = StepEnvironment(config: config).redactor
        guard let (entry, steps) = try PromotionHistoryReport.steps(store, promotion: promotion, lines: lines, redactor: redactor)
        else {
            FileHandle.standardError.write(Data("no promotion \(promotion) in \(config.stateDirectory)\n".utf8))
            throw ExitCode.failure
        }
        switch output {
        case .json:
            struct Document: Encodable {
                let promotion: PromotionHistoryReport.Entry
                let steps: [PromotionHistoryReport.Step]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(Document(promotion: entry, steps: steps)), as: UTF8.self))
        case .text:
            print("promotion #\(entry.id) of \(entry.candidate.prefix(12)) to \(entry.pipeline)/\(entry.stage): \(entry.status)")
            for step in steps {
                let exit = step.exitStatus.map { "exit \($0)" } ?? "no exit status"
                print("\n[\(step.phase)] \(step.name) (attempt \(step.attempt)): \(step.result), \(exit), \(step.durationMs) ms")
                for line in step.tail { print("  | \(line.printable)") }
            }
        }
    }
}
