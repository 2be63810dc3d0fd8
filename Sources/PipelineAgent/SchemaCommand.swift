import ArgumentParser
import Foundation
import Reconciler
import SpecModel

/// `pipeline-agent schema`: prints the JSON Schema of the Pipeline document, the agent config or the status JSON.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of the Pipeline document (the source of pipelines/pipeline.schema.json).",
        discussion: """
            Point your editor's YAML language server at it for completion and checks while you type. \
            With --config: the schema of the agent config file (docs/agent-config.schema.json); with --config \
            --markdown, its reference (docs/agent-config.md). With --status: the schema of `status --output json`, \
            `plan --output json` and /api/v1/status (every field, its type and what it means), for scripts and \
            dashboards that read them.
            """
    )

    @Flag(help: "The schema of the agent config file instead.") var config = false
    @Flag(help: "With --config: the agent config reference as Markdown instead of a JSON Schema.") var markdown = false
    @Flag(help: "The schema of the status and plan JSON documents instead.") var status = false

    func validate() throws {
        if config && status { throw ValidationError("choose one of --config and --status") }
        if markdown && !config { throw ValidationError("--markdown goes with --config (the agent config reference)") }
    }

    func run() throws {
        let document: Data
        if config {
            document = markdown ? Data(ConfigReference.markdown().utf8) : try JSONSchemaEmitter.configSchemaJSON()
        } else {
            document = try status ? StatusSchema.json() : JSONSchemaEmitter.pipelineSchemaJSON()
        }
        FileHandle.standardOutput.write(document)
    }
}
