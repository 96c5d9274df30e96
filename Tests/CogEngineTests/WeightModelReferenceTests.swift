import Foundation
import Testing

@testable import CogEngine

/// Where a model with managed weights goes: `model:` in cog.yaml and the `COG_MODEL*` variables, as Cog resolves
/// them.
@Suite struct WeightModelReferenceTests {
    /// 2026-06-12 16:41:25 UTC.
    static let now = Date(timeIntervalSince1970: 1_781_282_485.25)

    static func resolve(
        model: String? = nil, image: String? = nil, _ overrides: ModelReference.Overrides = .init()
    ) throws -> ModelReference? {
        try ModelReference.resolve(
            model: model, image: image, overrides: overrides, registryHost: "r8.im", now: Self.now)
    }

    static func message(_ body: () throws -> Any?) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func cogModelIsTheWholeReference() throws {
        let tagged = try #require(try Self.resolve(model: "other/m", .init(model: "127.0.0.1:5000/test/m:v1")))
        #expect(tagged.registry == "127.0.0.1:5000")
        #expect(tagged.repository == "test/m")
        #expect(tagged.tag == "v1")
        #expect(tagged.digest == nil)
        #expect(tagged.description == "127.0.0.1:5000/test/m:v1")
        #expect(tagged.repositoryName == "127.0.0.1:5000/test/m")
        // Without a tag, the time, as Go formats 20060102T150405Z.
        let untagged = try #require(try Self.resolve(.init(model: "registry.example.com/a/b")))
        #expect(untagged.description == "registry.example.com/a/b:20260612T164125Z")
        let pinned = try #require(
            try Self.resolve(.init(model: "localhost:5000/a/b@sha256:\(String(repeating: "0", count: 64))")))
        #expect(pinned.digest == "sha256:\(String(repeating: "0", count: 64))")
        #expect(Self.message { try Self.resolve(.init(model: "UPPER CASE:::")) }.hasPrefix("invalid COG_MODEL value: "))
    }

    @Test func modelInCogYAMLWithoutAHostIsDockerHub() throws {
        let reference = try #require(try Self.resolve(model: "test/weights-model"))
        #expect(reference.registry == "docker.io")
        #expect(reference.repository == "test/weights-model")
        #expect(reference.tag == "20260612T164125Z")
        #expect(try Self.resolve(model: "solo")?.repository == "library/solo")
        #expect(try Self.resolve(model: "localhost:5000/x/y")?.repositoryName == "localhost:5000/x/y")
    }

    @Test func variablesReplaceParts() throws {
        let registry = try #require(
            try Self.resolve(model: "registry.example.com/test/m", .init(registry: "127.0.0.1:5000")))
        #expect(registry.description == "127.0.0.1:5000/test/m:20260612T164125Z")
        let all = try #require(
            try Self.resolve(model: "test/m", .init(registry: "h:1", repository: "o/r", tag: "v2")))
        #expect(all.description == "h:1/o/r:v2")
        // Only the repository named: the registry is r8.im (or COG_REGISTRY_HOST).
        #expect(try Self.resolve(.init(repository: "o/r"))?.description == "r8.im/o/r:20260612T164125Z")
        #expect(try Self.resolve(.init(registry: "h:1")) == nil, "a registry alone names no model")
    }

    @Test func reservedAndMalformedValuesAreRefused() {
        #expect(
            Self.message { try Self.resolve(model: "test/m", .init(tag: "cog-weight.x")) }
                == #"invalid COG_MODEL_TAG "cog-weight.x": "cog-" is a reserved prefix — choose a different tag"#)
        #expect(Self.message { try Self.resolve(model: "test/m", .init(tag: ".bad")) }.contains("COG_MODEL_TAG"))
        #expect(
            Self.message { try Self.resolve(model: "test/m", .init(registry: "h:1/path")) }
                == #"invalid COG_MODEL_REGISTRY "h:1/path": must be a bare host (no path, tag, or digest)"#)
        #expect(Self.message { try Self.resolve(.init(repository: "o/r:v1")) }.contains("COG_MODEL_REPO"))
    }

    @Test func imageAndVariablesTogetherAreRefused() {
        let message = Self.message { try Self.resolve(image: "r8.im/a/b", .init(model: "h:1/a/b:v1")) }
        #expect(message.hasPrefix("'image' in cog.yaml cannot be combined with COG_MODEL* env vars\n  remove"))
    }

    @Test func nothingNamedIsNoModel() throws {
        #expect(try Self.resolve() == nil)
        #expect(try Self.resolve(image: "r8.im/a/b") == nil)
        #expect(try Self.resolve(model: "", .init(model: "", registry: "", repository: "", tag: "")) == nil)
        #expect(
            ModelReference.missing(image: nil).description
                == "weight commands require a model ref: set 'model' in cog.yaml, or export COG_MODEL / COG_MODEL_REPO")
        #expect(
            ModelReference.missing(image: "x").description
                == "weight commands require 'model' in cog.yaml, not 'image' — rename 'image' to 'model'")
    }
}
