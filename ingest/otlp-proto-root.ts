import protobuf from 'protobufjs/light.js';

/*
 * Why a descriptor here: @opentelemetry/otlp-transformer 0.301 has no request decoder and no
 * generated root any more (it writes requests and reads responses with hand-written code,
 * none of it exported), so spans sent as protobuf are decoded with protobufjs, which the OTLP
 * gRPC exporters already bring in. Only the messages a trace export needs are described,
 * field numbers as in opentelemetry-proto v1 (`collector/trace/v1/trace_service.proto`,
 * `trace/v1/trace.proto`, `common/v1/common.proto`, `resource/v1/resource.proto`) and
 * `google/rpc/status.proto`. Fields not listed (entity refs, span links' flags...) are skipped
 * by the decoder, as protobuf requires. `kind` and `code` are read as plain integers, which
 * is how enums travel on the wire.
 */
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const field = (type: string, id: number) => ({ type, id });
const KEY_VALUE = 'opentelemetry.proto.common.v1.KeyValue';

const DESCRIPTOR = {
  nested: {
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            common: {
              nested: {
                v1: {
                  nested: {
                    AnyValue: {
                      oneofs: {
                        value: {
                          oneof: [
                            'stringValue',
                            'boolValue',
                            'intValue',
                            'doubleValue',
                            'arrayValue',
                            'kvlistValue',
                            'bytesValue',
                          ],
                        },
                      },
                      fields: {
                        stringValue: field('string', 1),
                        boolValue: field('bool', 2),
                        intValue: field('int64', 3),
                        doubleValue: field('double', 4),
                        arrayValue: field('ArrayValue', 5),
                        kvlistValue: field('KeyValueList', 6),
                        bytesValue: field('bytes', 7),
                      },
                    },
                    ArrayValue: { fields: { values: repeated('AnyValue', 1) } },
                    KeyValueList: { fields: { values: repeated('KeyValue', 1) } },
                    KeyValue: { fields: { key: field('string', 1), value: field('AnyValue', 2) } },
                    InstrumentationScope: {
                      fields: {
                        name: field('string', 1),
                        version: field('string', 2),
                        attributes: repeated('KeyValue', 3),
                        droppedAttributesCount: field('uint32', 4),
                      },
                    },
                  },
                },
              },
            },
            resource: {
              nested: {
                v1: {
                  nested: {
                    Resource: {
                      fields: {
                        attributes: repeated(KEY_VALUE, 1),
                        droppedAttributesCount: field('uint32', 2),
                      },
                    },
                  },
                },
              },
            },
            trace: {
              nested: {
                v1: {
                  nested: {
                    ResourceSpans: {
                      fields: {
                        resource: field('opentelemetry.proto.resource.v1.Resource', 1),
                        scopeSpans: repeated('ScopeSpans', 2),
                        schemaUrl: field('string', 3),
                      },
                    },
                    ScopeSpans: {
                      fields: {
                        scope: field('opentelemetry.proto.common.v1.InstrumentationScope', 1),
                        spans: repeated('Span', 2),
                        schemaUrl: field('string', 3),
                      },
                    },
                    Span: {
                      fields: {
                        traceId: field('bytes', 1),
                        spanId: field('bytes', 2),
                        traceState: field('string', 3),
                        parentSpanId: field('bytes', 4),
                        name: field('string', 5),
                        kind: field('int32', 6),
                        startTimeUnixNano: field('fixed64', 7),
                        endTimeUnixNano: field('fixed64', 8),
                        attributes: repeated(KEY_VALUE, 9),
                        droppedAttributesCount: field('uint32', 10),
                        events: repeated('Event', 11),
                        droppedEventsCount: field('uint32', 12),
                        links: repeated('Link', 13),
                        droppedLinksCount: field('uint32', 14),
                        status: field('Status', 15),
                        flags: field('fixed32', 16),
                      },
                      nested: {
                        Event: {
                          fields: {
                            timeUnixNano: field('fixed64', 1),
                            name: field('string', 2),
                            attributes: repeated(KEY_VALUE, 3),
                            droppedAttributesCount: field('uint32', 4),
                          },
                        },
                        Link: {
                          fields: {
                            traceId: field('bytes', 1),
                            spanId: field('bytes', 2),
                            traceState: field('string', 3),
                            attributes: repeated(KEY_VALUE, 4),
                            droppedAttributesCount: field('uint32', 5),
                            flags: field('fixed32', 6),
                          },
                        },
                      },
                    },
                    Status: { fields: { message: field('string', 2), code: field('int32', 3) } },
                  },
                },
              },
            },
            collector: {
              nested: {
                trace: {
                  nested: {
                    v1: {
                      nested: {
                        ExportTraceServiceRequest: {
                          fields: {
                            resourceSpans: repeated('opentelemetry.proto.trace.v1.ResourceSpans', 1),
                          },
                        },
                        ExportTraceServiceResponse: {
                          fields: { partialSuccess: field('ExportTracePartialSuccess', 1) },
                        },
                        ExportTracePartialSuccess: {
                          fields: { rejectedSpans: field('int64', 1), errorMessage: field('string', 2) },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    google: {
      nested: {
        rpc: {
          nested: {
            Status: { fields: { code: field('int32', 1), message: field('string', 2) } },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);

/** The OTLP trace messages used by `ingest`, and `google.rpc.Status` for error bodies. */
export const OTLP_TYPES = Object.freeze({
  exportRequest: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  exportResponse: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  status: root.lookupType('google.rpc.Status'),
});
