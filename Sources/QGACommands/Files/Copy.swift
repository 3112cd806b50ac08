import ArgumentParser

/// `qga cp SRC DST`: one file to or from the guest, `TARGET:/PATH` on one side.
struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy a file, or with -r a directory, to or from the guest.",
        discussion: """
            One side is TARGET:/PATH, a file in the guest: the argument is split at its last \
            ':/', so TARGET may be a socket path or unix:PATH, and PATH is absolute. The other \
            side is a host path (a host path cannot contain ':/'), or - for stdin or stdout. A \
            host directory as destination gets the guest file's name.

            The file goes through guest-file-read and guest-file-write in chunks of 1 MiB (just \
            under 3 MiB read and 128 KiB written through libvirt, to fit its limits), and its \
            size is checked at the end. A host file appears only once complete (it is written \
            beside the destination and renamed); a guest file that fails part way is removed \
            through guest-exec (rm -f; it was created or emptied by the copy), and reported \
            when that cannot be done or the path is no longer a regular file. \
            On a terminal, stderr shows the progress.

            -r copies a directory: into DESTINATION/NAME when the destination is a \
            directory, else as the destination itself. It runs tar in the guest through \
            guest-exec, with the archive in a temporary file there (removed afterwards). \
            qga checks the guest's archive before writing anything on the host: absolute \
            names, '..', paths through symbolic links, devices and FIFOs are refused; \
            symbolic links are copied as links; the tree appears only once complete, and \
            never over an existing host one.

            Examples:
              qga cp /run/vm1/qga.sock:/etc/os-release .
              qga cp backup.tar vm1:/var/tmp/backup.tar
              tar c dir | qga cp - unix:/run/vm1/qga.sock:/tmp/dir.tar
              qga cp -r ./site vm1:/srv/site
            """)

    @OptionGroup var agent: AgentOptions

    @Argument(help: ArgumentHelp("Where to copy from: " + CopyEndpoint.help, valueName: "source"), transform: CopyEndpoint.argument)
    var source: CopyEndpoint

    @Argument(help: ArgumentHelp("Where to copy to: " + CopyEndpoint.help, valueName: "destination"), transform: CopyEndpoint.argument)
    var destination: CopyEndpoint

    func validate() throws {
        switch (source, destination) {
        case (.guest, .guest): throw ValidationError("copy between two guests is not supported: one side must be on the host")
        case (.guest, _), (_, .guest): return
        default: throw ValidationError("one side must be a guest file, TARGET:/PATH")
        }
    }

    @Flag(name: [.customShort("r"), .customShort("R"), .customLong("recursive")], help: "Copy a directory and everything in it (through tar in the guest).")
    var recursive = false

    func run() throws {
        if recursive { return try copyTree() }
        switch (source, destination) {
        case (.guest(let target, let path), .host(let host)):
            let sink = try HostSink(path: host, guestPath: path)
            try FileTransfer.download(agent, target, path: path, into: sink, progress: true)
        case (.guest(let target, let path), .standard):
            try FileTransfer.download(agent, target, path: path, into: HostSink(), progress: !Console.isTerminal(1))
        case (.host(let host), .guest(let target, let path)):
            try FileTransfer.upload(from: HostSource(path: host), agent, target, path: path)
        case (.standard, .guest(let target, let path)):
            try FileTransfer.upload(from: HostSource(path: nil), agent, target, path: path)
        default:
            throw ValidationError("one side must be a guest file, TARGET:/PATH")
        }
    }

    private func copyTree() throws {
        switch (source, destination) {
        case (.guest(let target, let path), .host(let host)):
            try TreeTransfer.download(agent, target, path: path, host: host)
        case (.host(let host), .guest(let target, let path)):
            try TreeTransfer.upload(agent, host: host, target, path: path)
        default:
            throw ValidationError("-r copies a directory between a host path and TARGET:/PATH, not stdin or stdout")
        }
    }
}
