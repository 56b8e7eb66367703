import { LightningElement, api, wire } from 'lwc';
import { refreshApex } from '@salesforce/apex';
import getActivity from '@salesforce/apex/WhatsAppActivityController.getActivity';

// WhatsApp opt-in status and message history on Contact and Lead record pages. Data comes from
// WhatsAppActivityController (cacheable, user mode): the consent fields and the Tasks the
// connector logged per WhatsApp message (external id WhatsApp_Message_Id__c).

const COLUMNS = [
    {
        label: 'When',
        fieldName: 'occurredAt',
        type: 'date',
        initialWidth: 170,
        typeAttributes: { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' }
    },
    { label: 'Message', fieldName: 'subject', type: 'text', wrapText: true },
    { label: 'Details', fieldName: 'details', type: 'text', wrapText: true }
];

function errorMessage(error) {
    if (!error) return 'Unknown error';
    if (Array.isArray(error.body)) return error.body.map((e) => e.message).join(', ');
    if (error.body && typeof error.body.message === 'string') return error.body.message;
    return typeof error.message === 'string' ? error.message : 'Unknown error';
}

export default class WhatsappActivity extends LightningElement {
    @api recordId;
    @api objectApiName;
    @api maxMessages = 50;

    columns = COLUMNS;
    activity;
    error;
    wiredActivity;

    @wire(getActivity, { recordId: '$recordId', maxMessages: '$maxMessages' })
    handleActivity(result) {
        this.wiredActivity = result;
        const { data, error } = result;
        if (data) {
            this.activity = data;
            this.error = undefined;
        } else if (error) {
            this.activity = undefined;
            this.error = errorMessage(error);
        }
    }

    get isLoading() {
        return !this.activity && !this.error;
    }

    get messages() {
        return this.activity && this.activity.messages ? this.activity.messages : [];
    }

    get hasMessages() {
        return this.messages.length > 0;
    }

    get consentLabel() {
        if (!this.activity) return '';
        if (this.activity.optedIn) return 'Opted in';
        return this.activity.optInChangedAt ? 'Opted out' : 'No consent recorded';
    }

    get consentClass() {
        if (this.activity && this.activity.optedIn) return 'slds-theme_success';
        return this.activity && this.activity.optInChangedAt ? 'slds-theme_error' : 'slds-theme_warning';
    }

    get whatsappNumber() {
        return this.activity && this.activity.whatsappNumber ? this.activity.whatsappNumber : 'Mobile or Phone';
    }

    get optInSource() {
        return this.activity && this.activity.optInSource ? this.activity.optInSource : '—';
    }

    get optInChangedAt() {
        return this.activity ? this.activity.optInChangedAt : undefined;
    }

    handleRefresh() {
        this.error = undefined;
        return refreshApex(this.wiredActivity);
    }
}
