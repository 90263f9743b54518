import Foundation

// Writes a Swift file that holds the given schema files as string literals.
// Usage: SchemaEmbedder <schemas-root> <output.swift> <file>...
let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: SchemaEmbedder <root> <output> <file>...\n".utf8))
    exit(64)
}
let root = URL(fileURLWithPath: arguments[1]).standardizedFileURL.path + "/"
var source = """
    // Generated from Schemas/ at build time. Do not edit.

    /// The JSON files under `Schemas/` (examples excepted), by path relative to `Schemas/`.
    public enum EmbeddedSchemas {
        public static let files: [(path: String, contents: String)] = [

    """
for file in arguments.dropFirst(3) {
    let url = URL(fileURLWithPath: file).standardizedFileURL
    let contents = try String(contentsOf: url, encoding: .utf8)
    guard !contents.contains("\"####") else {
        FileHandle.standardError.write(Data("\(file): contains the sequence \"#### and cannot be embedded\n".utf8))
        exit(65)
    }
    let relative = url.path.hasPrefix(root) ? String(url.path.dropFirst(root.count)) : url.lastPathComponent
    source += "        (\"\(relative)\", ####\"\"\"\n\(contents)\n\"\"\"####),\n"
}
source += "    ]\n}\n"
try source.write(to: URL(fileURLWithPath: arguments[2]), atomically: true, encoding: .utf8)
