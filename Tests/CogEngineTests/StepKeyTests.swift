import Foundation
import TestSupport
import Testing

@testable import CogEngine

/// Step keys are shared through registry caches, so they must be the same on every machine: no project path,
/// cache directory or caller in them, and never a secret's value.
@Suite struct StepKeyTests {
    static let yaml = """
        build:
          python_version: "3.11"
          system_packages: ["cowsay"]
          python_requirements: requirements.txt
          run:
            - command: pip download private-thing
              mounts:
                - type: secret
                  id: token
                  target: /run/secrets/token
            - echo done
        predict: "predict.py:Predictor"
        """
    static let files = [
        "requirements.txt": "numpy==2.1.3\nwheels/demo-1.0-py3-none-any.whl\n",
        "wheels/demo-1.0-py3-none-any.whl": "not really a wheel",
    ]

    @Test func theSameProjectInTwoPlacesHasTheSameKeys() throws {
        let here = try makeProject(Self.yaml, files: Self.files)
        let there = try makeProject(Self.yaml, files: Self.files)
        #expect(here.path != there.path)
        var materials: [[String]] = []
        for project in [here, there] {
            let loaded = try ConfigLoader.load(projectDirectory: project.path)
            let plan = try BuildPlanner.plan(config: loaded.config, projectDirectory: project.path)
            let material = plan.steps.map(\.cacheKeyMaterial)
            for text in material {
                #expect(!text.contains(project.path), "a host path in a step key: \(text)")
            }
            materials.append(material)
        }
        #expect(materials[0] == materials[1])
        let keys = try materials.map { material in
            try material.reduce(StepCache.noParent) { try StepCache.key(parent: $0, material: $1) }
        }
        #expect(keys[0] == keys[1])
    }
}
