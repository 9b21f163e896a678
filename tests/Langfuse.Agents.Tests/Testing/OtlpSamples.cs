namespace Langfuse.Agents.Tests.Testing;

/// <summary>Captured requests of the official JS SDKs (copied from the wire reference, not read at test time).</summary>
internal static class OtlpSamples
{
    /// <summary>OTLP/JSON body sent by @langfuse/otel 5.11.1.</summary>
    public const string JsSdkOtlpJson = """
        {
          "resourceSpans": [
            {
              "resource": {
                "attributes": [
                  { "key": "service.name", "value": { "stringValue": "unknown_service:node" } },
                  { "key": "telemetry.sdk.language", "value": { "stringValue": "nodejs" } },
                  { "key": "telemetry.sdk.name", "value": { "stringValue": "opentelemetry" } },
                  { "key": "telemetry.sdk.version", "value": { "stringValue": "2.12.0" } }
                ],
                "droppedAttributesCount": 0
              },
              "scopeSpans": [
                {
                  "scope": { "name": "langfuse-sdk", "version": "5.11.1" },
                  "spans": [
                    {
                      "traceId": "c839a403cbf9db02d69c8baa704ebeda",
                      "spanId": "364d252163b4424b",
                      "parentSpanId": "4b49e05982b2d55a",
                      "name": "plan",
                      "kind": 1,
                      "startTimeUnixNano": "1795239544069000000",
                      "endTimeUnixNano": "1795239544069407254",
                      "attributes": [
                        { "key": "langfuse.observation.type", "value": { "stringValue": "generation" } },
                        { "key": "langfuse.observation.input", "value": { "stringValue": "[{\"role\":\"user\",\"content\":\"hi\"}]" } },
                        { "key": "langfuse.observation.model.name", "value": { "stringValue": "gpt-4o" } },
                        { "key": "langfuse.observation.usage_details", "value": { "stringValue": "{\"input\":10,\"output\":20}" } },
                        { "key": "langfuse.observation.output", "value": { "stringValue": "plan text" } }
                      ],
                      "droppedAttributesCount": 0,
                      "events": [],
                      "droppedEventsCount": 0,
                      "status": { "code": 0 },
                      "links": [],
                      "droppedLinksCount": 0,
                      "flags": 257
                    },
                    {
                      "traceId": "c839a403cbf9db02d69c8baa704ebeda",
                      "spanId": "b94a9fd953213b13",
                      "parentSpanId": "4b49e05982b2d55a",
                      "name": "web_search",
                      "kind": 1,
                      "startTimeUnixNano": "1795239544069000000",
                      "endTimeUnixNano": "1795239544069157774",
                      "attributes": [
                        { "key": "langfuse.observation.type", "value": { "stringValue": "tool" } },
                        { "key": "langfuse.observation.input", "value": { "stringValue": "{\"query\":\"q\"}" } },
                        { "key": "langfuse.observation.output", "value": { "stringValue": "results" } }
                      ],
                      "droppedAttributesCount": 0,
                      "events": [],
                      "droppedEventsCount": 0,
                      "status": { "code": 0 },
                      "links": [],
                      "droppedLinksCount": 0,
                      "flags": 257
                    },
                    {
                      "traceId": "c839a403cbf9db02d69c8baa704ebeda",
                      "spanId": "4b49e05982b2d55a",
                      "name": "coordinator",
                      "kind": 1,
                      "startTimeUnixNano": "1795239544067000000",
                      "endTimeUnixNano": "1795239544069770840",
                      "attributes": [
                        { "key": "langfuse.internal.is_app_root", "value": { "boolValue": true } },
                        { "key": "langfuse.observation.type", "value": { "stringValue": "span" } },
                        { "key": "langfuse.observation.input", "value": { "stringValue": "{\"q\":\"quantum\"}" } },
                        { "key": "langfuse.observation.output", "value": { "stringValue": "done" } }
                      ],
                      "droppedAttributesCount": 0,
                      "events": [],
                      "droppedEventsCount": 0,
                      "status": { "code": 0 },
                      "links": [],
                      "droppedLinksCount": 0,
                      "flags": 257
                    }
                  ]
                }
              ]
            }
          ]
        }
        """;

    /// <summary>Legacy batch body sent by the langfuse 3.39.2 npm package.</summary>
    public const string LegacyIngestionBatch = """
        {
          "batch": [
            {
              "id": "01c15207-d4e1-4694-9688-4a14b3209c72",
              "type": "score-create",
              "timestamp": "2026-11-21T05:38:59.632Z",
              "body": {
                "id": "0265055c-6484-4129-b2e5-5098acd81bc2",
                "name": "quality",
                "value": 1,
                "traceId": "0f5cc425-2771-4fe7-af9f-a36094982616",
                "observationId": null
              }
            },
            {
              "id": "ed496767-ae36-470c-8cbd-0caed3837c48",
              "type": "trace-create",
              "timestamp": "2026-11-21T05:38:59.654Z",
              "body": {
                "id": "0f5cc425-2771-4fe7-af9f-a36094982616",
                "timestamp": "2026-11-21T05:38:59.631Z",
                "name": "research-query",
                "sessionId": "s1",
                "userId": "u1",
                "input": "What is new in quantum computing?"
              }
            },
            {
              "id": "d43b4606-fbca-4ef7-8ff1-6767e59f146e",
              "type": "generation-update",
              "timestamp": "2026-11-21T05:38:59.654Z",
              "body": {
                "output": "plan text",
                "id": "cd94e794-fcf0-4928-8fe2-1ada0234fc64",
                "traceId": "0f5cc425-2771-4fe7-af9f-a36094982616",
                "endTime": "2026-11-21T05:38:59.631Z"
              }
            },
            {
              "id": "e980c360-4f01-4c77-8a14-a59341c022d7",
              "type": "span-update",
              "timestamp": "2026-11-21T05:38:59.654Z",
              "body": {
                "output": "done",
                "id": "d2580291-68c2-40fe-9274-66df5f6b3cf8",
                "traceId": "0f5cc425-2771-4fe7-af9f-a36094982616",
                "endTime": "2026-11-21T05:38:59.631Z"
              }
            },
            {
              "id": "cd83fe1c-d357-4f73-a416-25ce30a85e20",
              "type": "span-create",
              "timestamp": "2026-11-21T05:38:59.654Z",
              "body": {
                "id": "d2580291-68c2-40fe-9274-66df5f6b3cf8",
                "startTime": "2026-11-21T05:38:59.631Z",
                "name": "coordinator",
                "input": { "q": 1 },
                "traceId": "0f5cc425-2771-4fe7-af9f-a36094982616",
                "parentObservationId": null
              }
            },
            {
              "id": "a8da53d1-6382-4f31-aa93-9d5b6acf0b11",
              "type": "generation-create",
              "timestamp": "2026-11-21T05:38:59.654Z",
              "body": {
                "id": "cd94e794-fcf0-4928-8fe2-1ada0234fc64",
                "startTime": "2026-11-21T05:38:59.631Z",
                "name": "plan",
                "model": "gpt-4o",
                "input": [ { "role": "user", "content": "hi" } ],
                "usage": { "input": 10, "output": 20 },
                "traceId": "0f5cc425-2771-4fe7-af9f-a36094982616",
                "parentObservationId": "d2580291-68c2-40fe-9274-66df5f6b3cf8"
              }
            }
          ],
          "metadata": {
            "batch_size": 6,
            "sdk_integration": "DEFAULT",
            "sdk_version": "3.39.2",
            "sdk_variant": "langfuse",
            "public_key": "pk-lf-test",
            "sdk_name": "langfuse-js"
          }
        }
        """;
}
