import { createElement } from 'lwc';
import WhatsappActivity from 'c/whatsappActivity';
import getActivity from '@salesforce/apex/WhatsAppActivityController.getActivity';
import { refreshApex } from '@salesforce/apex';

jest.mock(
    '@salesforce/apex/WhatsAppActivityController.getActivity',
    () => {
        const { createApexTestWireAdapter } = require('@salesforce/sfdx-lwc-jest');
        return { default: createApexTestWireAdapter(jest.fn()) };
    },
    { virtual: true }
);

jest.mock('@salesforce/apex', () => ({ refreshApex: jest.fn(() => Promise.resolve()) }), { virtual: true });

const ACTIVITY = {
    optedIn: true,
    optInChangedAt: '2026-03-01T09:30:00.000Z',
    optInSource: 'form',
    whatsappNumber: '+4915112345678',
    messages: [
        { id: '00T000000000002AAA', messageId: 'wamid.TWO', subject: 'WhatsApp: read "order_update"', details: 'Your order shipped', taskStatus: 'Completed', occurredAt: '2026-03-02T10:00:00.000Z' },
        { id: '00T000000000001AAA', messageId: 'wamid.ONE', subject: 'WhatsApp: sent "spring_sale"', details: null, taskStatus: 'Completed', occurredAt: '2026-03-01T10:00:00.000Z' }
    ]
};

function mount() {
    const element = createElement('c-whatsapp-activity', { is: WhatsappActivity });
    element.recordId = '003000000000001AAA';
    document.body.appendChild(element);
    return element;
}

const flush = () => Promise.resolve();
const find = (element, selector) => element.shadowRoot.querySelector(selector);

describe('c-whatsapp-activity', () => {
    afterEach(() => {
        while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
        jest.clearAllMocks();
    });

    it('shows a spinner until the data arrives', () => {
        const element = mount();
        expect(find(element, 'lightning-spinner')).not.toBeNull();
        expect(find(element, 'lightning-datatable')).toBeNull();
    });

    it('asks the controller for the record and the configured number of messages', async () => {
        const element = mount();
        element.maxMessages = 10;
        await flush();
        expect(getActivity.getLastConfig()).toEqual({ recordId: '003000000000001AAA', maxMessages: 10 });
    });

    it('shows the opt-in status, number and the messages', async () => {
        const element = mount();
        getActivity.emit(ACTIVITY);
        await flush();
        expect(find(element, 'lightning-spinner')).toBeNull();
        const badge = find(element, '[data-id="consent"]');
        expect(badge.label).toBe('Opted in');
        expect(badge.className).toContain('slds-theme_success');
        expect(find(element, '[data-id="number"]').textContent).toBe('+4915112345678');
        expect(find(element, '[data-id="source"]').textContent).toBe('(form)');
        const table = find(element, 'lightning-datatable');
        expect(table.data).toHaveLength(2);
        expect(table.keyField).toBe('id');
        expect(table.columns.map((c) => c.fieldName)).toEqual(['occurredAt', 'subject', 'details']);
    });

    it('tells opted out from never asked', async () => {
        const element = mount();
        getActivity.emit({ ...ACTIVITY, optedIn: false, messages: [] });
        await flush();
        expect(find(element, '[data-id="consent"]').label).toBe('Opted out');
        getActivity.emit({ optedIn: false, optInChangedAt: null, optInSource: null, whatsappNumber: null, messages: [] });
        await flush();
        expect(find(element, '[data-id="consent"]').label).toBe('No consent recorded');
        expect(find(element, '[data-id="number"]').textContent).toBe('Mobile or Phone');
    });

    it('says so when there are no messages', async () => {
        const element = mount();
        getActivity.emit({ ...ACTIVITY, messages: [] });
        await flush();
        expect(find(element, 'lightning-datatable')).toBeNull();
        expect(find(element, '[data-id="empty"]').textContent).toBe('No WhatsApp messages yet.');
    });

    it('shows the controller error', async () => {
        const element = mount();
        getActivity.error({ message: "You don't have access to the WhatsApp fields." });
        await flush();
        expect(find(element, 'lightning-spinner')).toBeNull();
        expect(find(element, '[data-id="error"]').textContent).toBe("You don't have access to the WhatsApp fields.");
    });

    it('refreshes the wired data', async () => {
        const element = mount();
        getActivity.emit(ACTIVITY);
        await flush();
        find(element, '[data-id="refresh"]').click();
        expect(refreshApex).toHaveBeenCalledTimes(1);
    });
});
