import QGAProtocol
import Testing

/// The generated catalogue, checked against facts known from qemu-ga's behaviour and
/// QEMU's history rather than read back from the generated file.
@Suite struct CatalogueTests {
    @Test func fileReadTakesAHandleAndAnOptionalCount() throws {
        let read = try #require(Catalogue.info("guest-file-read"))
        #expect(read.arguments == [Member("handle", .named("int")), Member("count", .named("int"), optional: true)])
        #expect(read.returns == .named("GuestFileRead"))
        #expect(read.successResponse)
    }

    @Test func structMembersAreAStructsOwnOnly() {
        #expect(Catalogue.structMembers("GuestExec") == [Member("pid", .named("int"))])
        #expect(Catalogue.structMembers(nil).isEmpty)
        #expect(Catalogue.structMembers("GuestExecCaptureOutputMode").isEmpty)  // an enum
        #expect(Catalogue.structMembers("NoSuchType").isEmpty)
    }

    @Test func onlyShutdownAndSuspendSendNoReply() {
        let silent = Catalogue.commands.filter { !$0.successResponse }.map(\.name)
        #expect(silent.sorted() == ["guest-shutdown", "guest-suspend-disk", "guest-suspend-hybrid", "guest-suspend-ram"])
    }

    @Test func execCaptureOutputIsAnAlternateOfBoolAndAnEnum() throws {
        let exec = try #require(Catalogue.info("guest-exec"))
        let capture = try #require(exec.argument("capture-output"))
        #expect(capture.optional)
        #expect(exec.argument("path")?.optional == false)
        #expect(exec.argument("arg")?.type == .array("str"))
        let alternate = try #require(Catalogue.type(capture.type.name))
        guard case .alternate(let branches) = alternate.kind else {
            Issue.record("capture-output is \(alternate.kind), not an alternate")
            return
        }
        #expect(branches.map(\.type.builtin).contains(.bool))
        let modeName = try #require(branches.first { $0.type.builtin == nil }?.type.name)
        let mode = try #require(Catalogue.type(modeName))
        guard case .enumeration(let values) = mode.kind else {
            Issue.record("\(modeName) is not an enum")
            return
        }
        #expect(values.map(\.name) == ["none", "stdout", "stderr", "separated", "merged"])
        // qemu-ga on Windows cannot merge the two pipes.
        #expect(values.last?.condition?.holdsOnWindows == false)
        #expect(values.last?.condition?.holdsOnLinux == true)
    }

    @Test func fileSeekWhenceIsANumberOrAName() throws {
        let seek = try #require(Catalogue.info("guest-file-seek"))
        let whence = try #require(seek.argument("whence").flatMap { Catalogue.type($0.type.name) })
        guard case .alternate(let branches) = whence.kind else {
            Issue.record("whence is not an alternate")
            return
        }
        #expect(branches.contains { $0.type.builtin == .int })
        let names = branches.compactMap { Catalogue.type($0.type.name) }.first
        #expect(names?.kind == .enumeration([EnumValue("set"), EnumValue("cur"), EnumValue("end")]))
    }

    @Test func cpuStatsIsAUnionOnType() throws {
        let stats = try #require(Catalogue.type("GuestCpuStats"))
        guard case .union(_, let baseMembers, let discriminator, let branches) = stats.kind else {
            Issue.record("GuestCpuStats is not a union")
            return
        }
        #expect(discriminator == "type")
        #expect(baseMembers.map(\.name) == ["type"])
        #expect(branches.map(\.name) == ["linux"])
    }

    @Test(arguments: [
        ("guest-sync", "0.15.0"), ("guest-sync-delimited", "1.1"), ("guest-fsfreeze-freeze-list", "2.2"),
        ("guest-set-user-password", "2.3"), ("guest-exec", "2.5"), ("guest-get-osinfo", "2.10"),
    ])
    func sinceVersions(name: String, since: String) {
        #expect(Catalogue.info(name)?.since == since)
    }

    @Test func platformConditions() throws {
        let devices = try #require(Catalogue.info("guest-get-devices")?.condition)
        #expect(devices.holdsOnWindows && !devices.holdsOnLinux)
        let memory = try #require(Catalogue.info("guest-get-memory-blocks")?.condition)
        #expect(memory.holdsOnLinux && !memory.holdsOnWindows)
        #expect(Catalogue.info("guest-fsfreeze-freeze")?.condition?.holdsOnLinux == true)
        #expect(Catalogue.info("guest-ping")?.condition == nil)
        #expect(Catalogue.info("guest-exec")?.condition == nil)
    }

    @Test func frozenAllowlistAndDurations() {
        let frozen = Catalogue.commands.filter(\.allowedWhileFrozen).map(\.name)
        #expect(Set(frozen) == Set(Catalogue.frozenAllowlist))
        #expect(frozen.count == 6)
        #expect(Catalogue.info("guest-file-open")?.allowedWhileFrozen == false)
        #expect(Catalogue.info("guest-fsfreeze-thaw")?.allowedWhileFrozen == true)
        #expect(Catalogue.info("guest-fsfreeze-freeze")?.duration == .long)
        #expect(Catalogue.info("guest-fstrim")?.duration == .long)
        #expect(Catalogue.info("guest-fsfreeze-status")?.duration == .quick)
        #expect(Catalogue.info("guest-ping")?.duration == .quick)
    }

    @Test func everyNameIsUniqueAndEveryTypeResolves() {
        let names = Catalogue.commands.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(Set(Catalogue.types.map(\.name)).count == Catalogue.types.count)
        var refs = Catalogue.commands.flatMap { $0.arguments.map(\.type) + ($0.returns.map { [$0] } ?? []) }
        for type in Catalogue.types {
            switch type.kind {
            case .enumeration: break
            case .structure(let base, let members): refs += members.map(\.type) + (base.map { [.named($0)] } ?? [])
            case .union(let base, let members, _, let branches):
                refs += members.map(\.type) + branches.map(\.type) + (base.map { [.named($0)] } ?? [])
            case .alternate(let branches): refs += branches.map(\.type)
            }
        }
        for ref in refs {
            #expect(ref.builtin != nil || Catalogue.type(ref.name) != nil, "\(ref) resolves to nothing")
        }
    }

    @Test func unknownCommandsAreNil() {
        #expect(Catalogue.info("guest-no-such-command") == nil)
        #expect(!Catalogue.schemaVersion.isEmpty)
    }

    @Test func generatedAccessorsNameTheirEntries() {
        #expect(Catalogue.Commands.guestSyncDelimited.name == "guest-sync-delimited")
        #expect(Catalogue.Commands.guestFileRead.name == "guest-file-read")
        #expect(Catalogue.Commands.guestNetworkGetRoute.name == "guest-network-get-route")
    }
}
