/** Every policy of the pack, in one list: used by the CrossGuard pack (index.ts), the offline review and the tests. */
import { policy as awsEksPrivateEndpoint } from "./rules/awsEksPrivateEndpoint";
import { policy as awsEksSecretsEncryption } from "./rules/awsEksSecretsEncryption";
import { policy as cloudControlPlaneAuditLogs } from "./rules/cloudControlPlaneAuditLogs";
import { policy as cloudNetworkPolicies } from "./rules/cloudNetworkPolicies";
import { policy as cloudNoPublicIp } from "./rules/cloudNoPublicIp";
import { policy as cloudNodeMetadata } from "./rules/cloudNodeMetadata";
import { policy as cloudRequiredTags } from "./rules/cloudRequiredTags";
import { policy as cloudVolumeEncryption } from "./rules/cloudVolumeEncryption";
import { policy as gcpGkePrivate } from "./rules/gcpGkePrivate";
import { policy as gcpGkeSecretsEncryption } from "./rules/gcpGkeSecretsEncryption";
import { policy as gcpGkeShieldedNodes } from "./rules/gcpGkeShieldedNodes";
import { policy as gcpGkeWorkloadIdentity } from "./rules/gcpGkeWorkloadIdentity";
import { policy as natsHostPermissions } from "./rules/natsHostPermissions";
import { policy as natsJetstreamEncryption } from "./rules/natsJetstreamEncryption";
import { policy as natsLeafnodeAuthorization } from "./rules/natsLeafnodeAuthorization";
import { policy as natsLeafnodeVerify } from "./rules/natsLeafnodeVerify";
import { policy as natsMonitoringNotExposed } from "./rules/natsMonitoringNotExposed";
import { policy as natsNoInsecureTls } from "./rules/natsNoInsecureTls";
import { policy as natsNoPlaintextSecrets } from "./rules/natsNoPlaintextSecrets";
import { policy as natsNoPublicExposure } from "./rules/natsNoPublicExposure";
import { policy as natsStreamDeleteProtection } from "./rules/natsStreamDeleteProtection";
import { policy as natsSyncAlways } from "./rules/natsSyncAlways";
import { policy as natsTlsEveryPort } from "./rules/natsTlsEveryPort";
import { policy as natsUserPermissions } from "./rules/natsUserPermissions";
import { policy as residencyAllowedRegions } from "./rules/residencyAllowedRegions";
import { policy as residencySecretReplicas } from "./rules/residencySecretReplicas";
import { policy as resilienceDrillCoverage } from "./rules/resilienceDrillCoverage";
import { policy as resilienceDrillProgramme } from "./rules/resilienceDrillProgramme";
import { policy as resilienceGatewayCompleteness } from "./rules/resilienceGatewayCompleteness";
import { policy as resilienceHubSpread } from "./rules/resilienceHubSpread";
import { policy as resilienceImpactTolerance } from "./rules/resilienceImpactTolerance";
import { policy as resilienceMetaQuorum } from "./rules/resilienceMetaQuorum";
import { policy as resilienceMultiCloud } from "./rules/resilienceMultiCloud";
import { policy as resilienceRpoZeroReplication } from "./rules/resilienceRpoZeroReplication";
import { policy as resilienceStreamDurability } from "./rules/resilienceStreamDurability";
import { policy as resilienceWarmStandby } from "./rules/resilienceWarmStandby";
import { policy as resilienceWorkloadFailover } from "./rules/resilienceWorkloadFailover";
import { policy as wasmArtifactDigest } from "./rules/wasmArtifactDigest";
import { policy as wasmImagePinning } from "./rules/wasmImagePinning";
import { policy as wasmKrustletUnmaintained } from "./rules/wasmKrustletUnmaintained";
import { policy as wasmNodePoolTaints } from "./rules/wasmNodePoolTaints";
import type { LatticePolicy } from "./lib";

export const policies: readonly LatticePolicy[] = [
  awsEksPrivateEndpoint,
  awsEksSecretsEncryption,
  cloudControlPlaneAuditLogs,
  cloudNetworkPolicies,
  cloudNoPublicIp,
  cloudNodeMetadata,
  cloudRequiredTags,
  cloudVolumeEncryption,
  gcpGkePrivate,
  gcpGkeSecretsEncryption,
  gcpGkeShieldedNodes,
  gcpGkeWorkloadIdentity,
  natsHostPermissions,
  natsJetstreamEncryption,
  natsLeafnodeAuthorization,
  natsLeafnodeVerify,
  natsMonitoringNotExposed,
  natsNoInsecureTls,
  natsNoPlaintextSecrets,
  natsNoPublicExposure,
  natsStreamDeleteProtection,
  natsSyncAlways,
  natsTlsEveryPort,
  natsUserPermissions,
  residencyAllowedRegions,
  residencySecretReplicas,
  resilienceDrillCoverage,
  resilienceDrillProgramme,
  resilienceGatewayCompleteness,
  resilienceHubSpread,
  resilienceImpactTolerance,
  resilienceMetaQuorum,
  resilienceMultiCloud,
  resilienceRpoZeroReplication,
  resilienceStreamDurability,
  resilienceWarmStandby,
  resilienceWorkloadFailover,
  wasmArtifactDigest,
  wasmImagePinning,
  wasmKrustletUnmaintained,
  wasmNodePoolTaints,
];
