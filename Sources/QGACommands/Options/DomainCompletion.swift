import ArgumentParser
import QGALibvirt

/// The help for the TARGET arguments of commands that take several.
let targetsHelp = ArgumentHelp(
    "Libvirt domains (name, UUID or id), or agents' sockets: a path containing '/', or unix:PATH. Several at once print one line or row per target; --all takes every running domain.",
    valueName: "target")

/// Shell completion of TARGET words: the domains of the libvirt connection (the first -c on
/// the line, else LIBVIRT_DEFAULT_URI, else qemu:///system), read-only and within two
/// seconds; nothing when libvirt cannot be reached.
enum DomainCompletion {
    static let names = CompletionKind.custom { words, _, prefix in
        LibvirtConnection.completionNames(uri: uri(in: words), prefix: prefix)
    }

    /// The URI a command line names with -c/--connect (its first), else the default.
    static func uri(in words: [String]) -> String {
        for (index, word) in words.enumerated() {
            if (word == "-c" || word == "--connect"), index + 1 < words.count { return words[index + 1] }
            if word.hasPrefix("--connect=") { return String(word.dropFirst("--connect=".count)) }
        }
        return LibvirtConnection.defaultURI(environment: Console.environment)
    }
}
