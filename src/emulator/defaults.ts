// Azure's six default security rules, present (read-only) on every NSG.

interface DefaultRuleSpec {
  name: string;
  description: string;
  source: string;
  destination: string;
  access: "Allow" | "Deny";
  priority: number;
  direction: "Inbound" | "Outbound";
}

const SPECS: DefaultRuleSpec[] = [
  {
    name: "AllowVnetInBound",
    description: "Allow inbound traffic from all VMs in VNET",
    source: "VirtualNetwork",
    destination: "VirtualNetwork",
    access: "Allow",
    priority: 65000,
    direction: "Inbound",
  },
  {
    name: "AllowAzureLoadBalancerInBound",
    description: "Allow inbound traffic from azure load balancer",
    source: "AzureLoadBalancer",
    destination: "*",
    access: "Allow",
    priority: 65001,
    direction: "Inbound",
  },
  {
    name: "DenyAllInBound",
    description: "Deny all inbound traffic",
    source: "*",
    destination: "*",
    access: "Deny",
    priority: 65500,
    direction: "Inbound",
  },
  {
    name: "AllowVnetOutBound",
    description: "Allow outbound traffic from all VMs to all VMs in VNET",
    source: "VirtualNetwork",
    destination: "VirtualNetwork",
    access: "Allow",
    priority: 65000,
    direction: "Outbound",
  },
  {
    name: "AllowInternetOutBound",
    description: "Allow outbound traffic from all VMs to Internet",
    source: "*",
    destination: "Internet",
    access: "Allow",
    priority: 65001,
    direction: "Outbound",
  },
  {
    name: "DenyAllOutBound",
    description: "Deny all outbound traffic",
    source: "*",
    destination: "*",
    access: "Deny",
    priority: 65500,
    direction: "Outbound",
  },
];

export function defaultSecurityRules(nsgId: string, etag: string): Record<string, unknown>[] {
  return SPECS.map((s) => ({
    name: s.name,
    id: `${nsgId}/defaultSecurityRules/${s.name}`,
    etag,
    type: "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
    properties: {
      provisioningState: "Succeeded",
      description: s.description,
      protocol: "*",
      sourcePortRange: "*",
      destinationPortRange: "*",
      sourceAddressPrefix: s.source,
      sourceAddressPrefixes: [],
      destinationAddressPrefix: s.destination,
      destinationAddressPrefixes: [],
      sourcePortRanges: [],
      destinationPortRanges: [],
      access: s.access,
      priority: s.priority,
      direction: s.direction,
    },
  }));
}
