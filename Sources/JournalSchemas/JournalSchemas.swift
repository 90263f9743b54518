/// The schemas this build of the journal ships, compiled in from `Schemas/` by the EmbedSchemas plugin.
///
/// ```swift
/// for file in BundledSchemas.eventSchemaFiles { print(file.path) }
/// ```
public enum BundledSchemas {
    /// Event payload schemas: `events/<type>.v<N>.json`.
    public static var eventSchemaFiles: [(path: String, contents: String)] {
        EmbeddedSchemas.files.filter { $0.path.hasPrefix("events/") }
    }

    /// Any other embedded file by its path under `Schemas/`, e.g. `envelope.json`.
    public static func file(_ path: String) -> String? {
        EmbeddedSchemas.files.first { $0.path == path }?.contents
    }
}
