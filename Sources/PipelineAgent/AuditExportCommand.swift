import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent audit export`: the log for an auditor's spreadsheet.
struct AuditExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export audit records as CSV, a JSON array, or JSON Lines in the log file's format.",
        discussion: """
            CSV columns: seq,time,type,pipeline,stage,candidate,actor,detail,prev,hash (detail as compact JSON). \
            jsonl: one canonical record per line, byte for byte as in audit.jsonl, whichever store holds the chain \
            (SQLite's file or PostgreSQL's table): unfiltered, the jq recipe of docs/audit.md and \
            scripts/verify-audit.py verify it.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json, jsonl
    }

    @OptionGroup var options: ConfigOptions
    @OptionGroup var filter: AuditFilterOptions

    @Option(name: [.short, .long], help: "Export format: csv, json or jsonl.")
    var output: Format

    func run() throws {
        let config = try options.load()
        let records = try StateStores.auditRecords(config, matching: try filter.filter())
        switch output {
        case .csv: print(AuditCSV.render(records), terminator: "")
        case .json: print("[" + records.map(\.canonicalLine).joined(separator: ",\n") + "]")
        case .jsonl: for record in records { print(record.canonicalLine) }
        }
    }
}
