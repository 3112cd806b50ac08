// Reads QEMU's qga/qapi-schema.json on stdin and writes the catalogue as Swift on stdout.
// Run through scripts/generate-catalogue, which finds the schema and its version.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import QAPISchema

func fail(_ message: String) -> Never {
    var line = "qga-catalogue-gen: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

var qemuVersion: String?
var sha256: String?
var arguments = CommandLine.arguments.dropFirst()
while let option = arguments.popFirst() {
    switch option {
    case "--qemu-version": qemuVersion = arguments.popFirst()
    case "--sha256": sha256 = arguments.popFirst()
    default: fail("unknown argument '\(option)'")
    }
}
guard let qemuVersion, let sha256 else {
    fail("usage: qga-catalogue-gen --qemu-version VERSION --sha256 HASH <qapi-schema.json >Catalogue+Generated.swift")
}

var text = ""
while let line = readLine(strippingNewline: false) { text += line }

do {
    let schema = try QAPISchema(parsing: text)
    print(SwiftEmitter(schema: schema, source: .init(qemuVersion: qemuVersion, sha256: sha256)).render(), terminator: "")
} catch {
    fail("qapi-schema.json \(error)")
}
