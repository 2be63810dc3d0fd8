import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent audit export`: the log for an auditor's spreadsheet.
struct AuditExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export audit records as CSV or a JSON array.",
        discussion: "CSV columns: seq,time,type,pipeline,stage,candidate,actor,detail,prev,hash (detail as compact JSON)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    @OptionGroup var options: ConfigOptions
    @OptionGroup var filter: AuditFilterOptions

    @Option(name: [.short, .long], help: "Export format: csv or json.")
    var output: Format

    func run() throws {
        let config = try options.load()
        let records = try AuditReader.records(
            at: "\(config.stateDirectory)/\(AuditLog.fileName)", matching: try filter.filter())
        switch output {
        case .csv: print(AuditCSV.render(records), terminator: "")
        case .json: print("[" + records.map(\.canonicalLine).joined(separator: ",\n") + "]")
        }
    }
}
