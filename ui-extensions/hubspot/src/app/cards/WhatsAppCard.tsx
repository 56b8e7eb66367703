import React, { useCallback, useEffect, useState } from 'react';
import {
  Button,
  DescriptionList,
  DescriptionListItem,
  Divider,
  EmptyState,
  ErrorState,
  Flex,
  Heading,
  LoadingSpinner,
  StatusTag,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
  hubspot,
} from '@hubspot/ui-extensions';
// Generated from manifest.json with the connector's PUBLIC_URL (npm run generate:hubspot).
import { WHATSAPP_CARD_URL } from './connector.generated';

// Contact record tab: the contact's WhatsApp opt-in state and message history, read from the
// connector's GET /cards/hubspot/contact through hubspot.fetch (HubSpot signs the request and adds
// portalId/userId; the URL must be in app-hsmeta.json permittedUrls.fetch). Only
// @hubspot/ui-extensions components: no DOM, no browser fetch.

type ConsentState = 'opted_in' | 'opted_out' | 'unknown';
type TagVariant = 'default' | 'success' | 'warning' | 'danger' | 'info';

interface CardMessage {
  id: string;
  direction: 'outbound' | 'inbound';
  status: string;
  at: string;
  templateName?: string;
  text?: string;
  error?: { code?: number; title?: string };
}

interface CardData {
  contactId: string;
  phone: string | null;
  consent: { state: ConsentState; source?: string; changedAt?: string };
  messages: CardMessage[];
  hasMore?: boolean;
}

type Load =
  | { state: 'loading' }
  | { state: 'error'; title: string; detail: string }
  | { state: 'ready'; data: CardData };

const PAGE_SIZE = 20;
const TIMEOUT_MS = 10_000;

const CONSENT: Record<ConsentState, { label: string; variant: TagVariant }> = {
  opted_in: { label: 'Opted in', variant: 'success' },
  opted_out: { label: 'Opted out', variant: 'danger' },
  unknown: { label: 'No consent recorded', variant: 'warning' },
};

function statusVariant(status: string): TagVariant {
  switch (status) {
    case 'read':
    case 'delivered':
    case 'replied':
      return 'success';
    case 'failed':
      return 'danger';
    case 'skipped':
    case 'unknown':
      return 'warning';
    case 'sent':
    case 'accepted':
      return 'info';
    default:
      return 'default';
  }
}

function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function describe(message: CardMessage): string {
  if (message.direction === 'inbound') return message.text || '(reply without text)';
  const template = message.templateName ? `Template ${message.templateName}` : 'Message';
  return message.text ? `${template}: ${message.text}` : template;
}

async function loadCard(contactId: string): Promise<Load> {
  const url = `${WHATSAPP_CARD_URL}?contactId=${encodeURIComponent(contactId)}&limit=${PAGE_SIZE}`;
  try {
    const response = await hubspot.fetch(url, { method: 'GET', timeout: TIMEOUT_MS });
    if (response.status === 404) {
      return { state: 'error', title: 'WhatsApp is not connected', detail: 'This HubSpot account is not connected to the WhatsApp connector yet. Ask an admin to install it.' };
    }
    if (response.status === 401 || response.status === 403) {
      return { state: 'error', title: 'The connector refused the request', detail: 'Reinstall the app or contact your admin.' };
    }
    if (!response.ok) {
      return { state: 'error', title: 'Couldn’t load WhatsApp history', detail: `The connector answered ${response.status}. Try again in a few moments.` };
    }
    return { state: 'ready', data: (await response.json()) as CardData };
  } catch {
    return { state: 'error', title: 'Couldn’t reach the WhatsApp connector', detail: 'Check your connection and try again.' };
  }
}

const WhatsAppCard = ({ contactId }: { contactId: string }) => {
  const [load, setLoad] = useState<Load>({ state: 'loading' });

  const refresh = useCallback(() => {
    setLoad({ state: 'loading' });
    loadCard(contactId).then(setLoad);
  }, [contactId]);

  useEffect(() => {
    refresh();
  }, [refresh]);

  if (load.state === 'loading') return <LoadingSpinner label="Loading WhatsApp history" showLabel={true} layout="centered" />;

  if (load.state === 'error') {
    return (
      <ErrorState title={load.title}>
        <Text>{load.detail}</Text>
        <Button onClick={refresh}>Try again</Button>
      </ErrorState>
    );
  }

  const { data } = load;
  const consent = CONSENT[data.consent.state] ?? CONSENT.unknown;
  return (
    <Flex direction="column" gap="md">
      <DescriptionList direction="row">
        <DescriptionListItem label="WhatsApp opt-in">
          <StatusTag variant={consent.variant}>{consent.label}</StatusTag>
        </DescriptionListItem>
        <DescriptionListItem label="WhatsApp number">
          <Text>{data.phone ?? 'No valid mobile number'}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Last change">
          <Text>
            {formatTime(data.consent.changedAt)}
            {data.consent.source ? ` (${data.consent.source})` : ''}
          </Text>
        </DescriptionListItem>
      </DescriptionList>
      <Divider />
      <Flex direction="row" justify="between" align="center">
        <Heading>Messages</Heading>
        <Button size="xs" variant="secondary" onClick={refresh}>
          Refresh
        </Button>
      </Flex>
      {data.messages.length === 0 ? (
        <EmptyState title="No WhatsApp messages yet" layout="vertical" reverseOrder={true}>
          <Text>Messages sent from broadcasts or workflows, and replies, appear here.</Text>
        </EmptyState>
      ) : (
        <Table bordered={true}>
          <TableHead>
            <TableRow>
              <TableHeader>When</TableHeader>
              <TableHeader>Direction</TableHeader>
              <TableHeader>Message</TableHeader>
              <TableHeader>Status</TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {data.messages.map((message) => (
              <TableRow key={message.id}>
                <TableCell>{formatTime(message.at)}</TableCell>
                <TableCell>{message.direction === 'inbound' ? 'Received' : 'Sent'}</TableCell>
                <TableCell>{describe(message)}</TableCell>
                <TableCell>
                  <StatusTag variant={statusVariant(message.status)}>{message.status}</StatusTag>
                  {message.error?.title ? <Text variant="microcopy">{`${message.error.code ?? ''} ${message.error.title}`.trim()}</Text> : null}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {data.hasMore ? <Text variant="microcopy">{`Showing the latest ${PAGE_SIZE} messages.`}</Text> : null}
    </Flex>
  );
};

hubspot.extend<'crm.record.tab'>(({ context }) => <WhatsAppCard contactId={String(context.crm.objectId)} />);
