import Foundation
import PackagePlugin

/// Compiles every JSON file under `Schemas/` (except the examples) into the `JournalSchemas` module,
/// so that `tpj` carries its schemas inside the binary and a dropped-in schema file needs no Swift change.
@main
struct EmbedSchemasPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let schemas = context.package.directoryURL.appending(path: "Schemas")
        let inputs = try schemaFiles(under: schemas)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchemas.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) schema files",
                executable: try context.tool(named: "SchemaEmbedder").url,
                arguments: [schemas.path(), output.path()] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }

    private func schemaFiles(under root: URL) throws -> [URL] {
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        var files: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            let relative = url.path().dropFirst(root.path().count)
            if url.pathExtension == "json", !relative.contains("examples/") { files.append(url) }
        }
        return files.sorted { $0.path() < $1.path() }
    }
}
