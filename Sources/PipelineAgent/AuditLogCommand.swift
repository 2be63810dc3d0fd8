import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent audit log`: the log for people (aligned text) and tools (JSON Lines).
struct AuditLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print audit records, optionally filtered.",
        discussion: "--output json prints one canonical record per line (JSON Lines), exactly as stored."
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var filter: AuditFilterOptions

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let config = try options.load()
        let records = try StateStores.auditRecords(config, matching: try filter.filter())
        switch output {
        case .json:
            for record in records { print(record.canonicalLine) }
        case .text:
            print(AuditTextTable.render(records), terminator: "")
        }
    }
}

/// Filters shared by `audit log` and `audit export`.
struct AuditFilterOptions: ParsableArguments {
    @Option(help: "Only this pipeline.") var pipeline: String?
    @Option(help: "Only this stage.") var stage: String?
    @Option(help: "Only this candidate (a commit id or a prefix).") var candidate: String?
    @Option(help: "Only records at or after this time: RFC 3339 (2026-11-26T09:00:00Z) or an age such as 2h or 7d.")
    var since: String?

    func filter(now: Date = Date()) throws -> AuditFilter {
        AuditFilter(pipeline: pipeline, stage: stage, candidate: candidate, since: try sinceDate(now: now))
    }

    private func sinceDate(now: Date) throws -> Date? {
        guard let since else { return nil }
        guard let date = Self.timeBound(since, now: now) else {
            throw ValidationError("--since '\(since)' is neither an RFC 3339 time nor an age such as 2h")
        }
        return date
    }

    /// A bound on audit times as people write it: an RFC 3339 time, or an age before `now` (`2h`, `7d`).
    /// Shared with the audit page's filters.
    static func timeBound(_ text: String, now: Date) -> Date? {
        if let date = AuditTime.parse(text) { return date }
        return SpecDurationParser.seconds(text).map { now.addingTimeInterval(-$0) }
    }
}
