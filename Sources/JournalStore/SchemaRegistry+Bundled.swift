import Foundation
import Journal
import JournalSchemas

extension SchemaRegistry {
    /// The schemas compiled into this build.
    public static var bundled: SchemaRegistry {
        // The bundled schemas are checked by the tests; a failure here means the build itself is broken.
        try! SchemaRegistry(files: BundledSchemas.eventSchemaFiles)
    }

    /// The bundled schemas plus every `<type>.v<N>.json` file in `directory` (added, or replacing by type and version).
    ///
    /// - Throws: ``SchemaRegistryError`` naming the file that cannot be read or compiled.
    public static func bundled(extendedBy directory: String?) throws(SchemaRegistryError) -> SchemaRegistry {
        var registry = bundled
        guard let directory, !directory.isEmpty else { return registry }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            throw SchemaRegistryError(path: directory, message: "cannot list the schema directory: \(error.localizedDescription)")
        }
        for name in names {
            let path = directory + "/" + name
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SchemaRegistryError(path: path, message: "cannot read the file as UTF-8 text")
            }
            try registry.add(path: path, contents: contents)
        }
        return registry
    }
}
