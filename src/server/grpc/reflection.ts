import { ReflectionService } from "@grpc/reflection";
import type { Server } from "@grpc/grpc-js";
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/**
 * gRPC server reflection (v1 and v1alpha) for the given services, so tools
 * like grpcurl can list services and describe messages without the .proto
 * files. Fed with the generated descriptors of each service's file and its
 * imports (well-known types included).
 */
export function addReflection(server: Server, services: readonly DescService[]): void {
  const files = new Map<string, Buffer>();
  const add = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
    for (const dep of file.dependencies) add(dep);
  };
  for (const s of services) add(s.file);
  const packageDefinition = { descriptors: { fileDescriptorProtos: [...files.values()] } };
  new ReflectionService(packageDefinition as never, { services: services.map((s) => s.typeName) }).addToServer(server);
}
