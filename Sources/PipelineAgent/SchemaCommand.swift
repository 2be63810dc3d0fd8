import ArgumentParser
import Foundation
import Reconciler
import SpecModel

/// `pipeline-agent schema`: prints the JSON Schema of the Pipeline document.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of the Pipeline document (the source of pipelines/pipeline.schema.json).",
        discussion: """
            Point your editor's YAML language server at it for completion and checks while you type. \
            With --status: the schema of `status --output json`, `plan --output json` and /api/v1/status \
            (every field, its type and what it means), for scripts and dashboards that read them.
            """
    )

    @Flag(help: "The schema of the status and plan JSON documents instead.") var status = false

    func run() throws {
        FileHandle.standardOutput.write(try status ? StatusSchema.json() : JSONSchemaEmitter.pipelineSchemaJSON())
    }
}
