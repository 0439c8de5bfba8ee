import { createTidewire } from '@tidewire/vue';
import { createApp } from 'vue';
import App from './App.vue';
import './style.css';

// No url: the client connects to `/tidewire` on the page's own origin (server.ts serves both).
createApp(App).use(createTidewire()).mount('#app');
